"""The production walk-through (issue 14): an institution sets the service up from the README
alone, without SQL, and a researcher reaches a verified download.

The operator names the first admin with ``flask users grant-role`` before anyone signed in;
from then on everything goes through the JSON API, with the admin's API token or the
sessions of real sign-ins at an independent OIDC provider: a committee, its chair and member
and a signing official invited before their first sign-in, a study and its consent group, an
agreement, files the operator uploaded to the S3 store registered by key. A researcher
requests, is endorsed, voted on and approved, and downloads through presigned S3 URLs, with
plain requests and with ``custodian-download``; the bytes are the uploaded ones. Last,
``flask audit verify`` passes, and the export, verified offline, holds every set-up act with
its actor. The site itself: tests/e2e/production_site.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pysam
import pytest
import requests

from datasets.genomics import bgzf
from tests.e2e.production_site import Site, production_site
from tests.runbooks import ROOT

STUDY = "phs000424"
CONSENT_GROUP = "phs000424.v10.p2.c1"
INSTITUTION = "Example University"  # the provider's `institution` claim
STATEMENT = "We map expression quantitative trait loci across tissues in ageing adults."
DOWNLOAD = Path(sys.executable).with_name("custodian-download")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with production_site(tmp_path) as running:
        yield running


def stored_objects(folder: Path) -> dict[str, bytes]:
    """What the institution puts in its bucket: a bgzipped VCF with its tabix index, and a
    phenotype table."""
    lines = ["##fileformat=VCFv4.2", "##contig=<ID=chr1,length=248956422>",
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tDONOR-1\tDONOR-2"]
    lines += [f"chr1\t{10_000 + 37 * i}\t.\tA\tG\t.\tPASS\t.\tGT\t0/1\t1/1" for i in range(400)]
    vcf = folder / "chr1.vcf.gz"
    vcf.write_bytes(bgzf.compress("".join(f"{line}\n" for line in lines).encode())
                    + bgzf.EOF_BLOCK)
    pysam.tabix_index(str(vcf), preset="vcf", force=True, keep_original=True)
    return {
        f"{STUDY}/genotypes/chr1.vcf.gz": vcf.read_bytes(),
        f"{STUDY}/genotypes/chr1.vcf.gz.tbi": Path(f"{vcf}.tbi").read_bytes(),
        f"{STUDY}/phenotypes/SubjectPhenotypes.txt":
            b"SUBJID\tSEX\tAGE\nDONOR-1\t1\t60-69\nDONOR-2\t2\t50-59\n",
    }


def checksums(content: bytes) -> dict[str, Any]:
    return {"size": len(content), "sha256": hashlib.sha256(content).hexdigest(),
            "md5": hashlib.md5(content, usedforsecurity=False).hexdigest()}


def posted(client: requests.Session, url: str, body: dict[str, Any] | None = None,
           status: int = 201) -> dict[str, Any]:
    answer = client.post(url, json=body, timeout=30)
    assert answer.status_code == status, f"{url}: {answer.status_code} {answer.text}"
    result: dict[str, Any] = answer.json()
    return result


@dataclass
class Walk:
    """What the walk made, by the ids the API answered, for checking the log at the end."""

    site: Site
    objects: dict[str, bytes]
    people: dict[str, dict[str, Any]] = field(default_factory=dict)  # login: /users/me
    browsers: dict[str, requests.Session] = field(default_factory=dict)
    made: dict[str, dict[str, Any]] = field(default_factory=dict)  # what: the API's answer
    invited: dict[str, dict[str, Any]] = field(default_factory=dict)  # login: invited user
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def api(self) -> str:
        return f"{self.site.base_url}/api/v1"

    def sign_in(self, login: str) -> requests.Session:
        self.browsers[login], self.people[login] = self.site.sign_in(login)
        return self.browsers[login]


def test_an_institution_sets_up_without_sql_and_a_researcher_downloads_verified_bytes(
    site: Site, tmp_path: Path,
) -> None:
    walk = Walk(site, stored_objects(tmp_path))
    operator_uploads_and_names_the_first_admin(walk)
    admin_sets_up_the_committee_and_its_people(walk)
    admin_sets_up_the_catalogue(walk)
    researcher_is_endorsed_and_approved(walk)
    researcher_downloads_the_uploaded_bytes(walk, tmp_path)
    log = operator_verifies_and_exports_the_log(walk, tmp_path)
    assert_every_act_is_on_record_with_its_actor(walk, log)


def operator_uploads_and_names_the_first_admin(walk: Walk) -> None:
    """Objects go into the bucket with the operator's own S3 client; the first admin is
    named by email before they ever signed in."""
    s3 = walk.site.s3_client()
    for key, content in walk.objects.items():
        s3.put_object(Bucket=walk.site.store.bucket, Key=key, Body=content)
    granted = walk.site.flask("users", "grant-role", "admin", "--email", "admin@example.org")
    assert granted.returncode == 0, granted.stderr
    assert "Gave admin to user" in granted.stdout


def admin_sets_up_the_committee_and_its_people(walk: Walk) -> None:
    """The admin's first sign-in binds the grant; a token then drives the set-up script.
    The committee's chair and member and the signing official are invited by email."""
    browser = walk.sign_in("admin")
    assert walk.people["admin"]["roles"] == ["admin"]
    walk.made["token"] = posted(browser, f"{walk.api}/tokens", {
        "name": "set-up script", "days": 1, "scopes": ["admin", "catalogue"]})
    script = walk.site.bearer(walk.made["token"]["token"])
    committee = posted(script, f"{walk.api}/committees", {"name": "GTEx Data Access Committee"})
    walk.made["committee"] = committee
    bodies: dict[str, dict[str, Any]] = {
        "chair": {"committees": [{"committee_id": committee["id"], "chair": True}]},
        "member": {"committees": [{"committee_id": committee["id"], "chair": False}],
                   "issuer": walk.site.provider.issuer},
        "official": {"roles": [{"role": "signing_official", "scope": INSTITUTION}]},
    }
    for login, body in bodies.items():
        walk.invited[login] = posted(script, f"{walk.api}/users",
                                     {"email": f"{login}@example.org", **body})
        assert walk.invited[login]["status"] == "invited"


def admin_sets_up_the_catalogue(walk: Walk) -> None:
    """A study, its consent group governed by the committee, an agreement, and the uploaded
    objects registered by key (the store checks what the script states)."""
    script = walk.site.bearer(walk.made["token"]["token"])
    api, objects = walk.api, walk.objects
    walk.made["study"] = posted(script, f"{api}/studies", {
        "accession": STUDY, "title": "Genotype-Tissue Expression",
        "description": "Genotypes and phenotypes of post-mortem donors."})
    dataset = posted(script, f"{api}/datasets", {
        "study_id": walk.made["study"]["id"], "accession": CONSENT_GROUP,
        "name": "General Research Use", "tier": "controlled",
        "committee_id": walk.made["committee"]["id"], "duo_codes": ["GRU"],
        "use_limitation_text": "Use of the data is limited only by the terms of the DUA."})
    walk.made["dataset"] = dataset
    walk.made["agreement"] = posted(script, f"{api}/datasets/{dataset['id']}/agreements",
                                    {"text": "I will not attempt to identify any donor."})
    vcf_key, index_key, table_key = objects
    walk.files = [
        posted(script, f"{api}/datasets/{dataset['id']}/files", {
            "key": vcf_key, "kind": "genotype", **checksums(objects[vcf_key]),
            "index_key": index_key, "index_sha256": checksums(objects[index_key])["sha256"]}),
        posted(script, f"{api}/datasets/{dataset['id']}/files", {
            "key": table_key, "kind": "clinical", **checksums(objects[table_key])}),
    ]
    listed = script.get(f"{api}/datasets/{dataset['id']}", timeout=10).json()
    assert [(f["name"], f["sha256"]) for f in listed["files"]] == [
        ("chr1.vcf.gz", checksums(objects[vcf_key])["sha256"]),
        ("SubjectPhenotypes.txt", checksums(objects[table_key])["sha256"])]


def researcher_is_endorsed_and_approved(walk: Walk) -> None:
    """The researcher files and submits; the official, the member and the chair sign in for
    the first time (each becomes the invited user) and endorse, vote and approve."""
    researcher = walk.sign_in("researcher")
    assert walk.people["researcher"]["institution"] == INSTITUTION
    request = posted(researcher, f"{walk.api}/requests", {
        "title": "Ageing eQTLs", "research_use_statement": STATEMENT,
        "dataset_ids": [walk.made["dataset"]["id"]]})
    walk.made["request"] = request
    requested = f"{walk.api}/requests/{request['id']}"
    assert posted(researcher, f"{requested}/submit", status=200)["state"] == "submitted"
    moves: dict[str, tuple[str, dict[str, Any], str]] = {
        "official": ("endorse", {"comment": "A postdoc of our genetics department."},
                     "endorsed"),
        "member": ("vote", {"vote": "approve", "rationale": "GRU consent covers the use."},
                   "under_review"),
        "chair": ("approve", {"reason": "Consistent with GRU consent.", "days": 30},
                  "approved"),
    }
    for login, (action, body, state) in moves.items():
        browser = walk.sign_in(login)
        assert walk.people[login]["id"] == walk.invited[login]["id"], login
        assert posted(browser, f"{requested}/{action}", body, 200)["state"] == state, action
    assert walk.people["official"]["roles"] == ["signing_official"]


def researcher_downloads_the_uploaded_bytes(walk: Walk, folder: Path) -> None:
    """After accepting the agreement: a presigned S3 URL fetched by plain requests (a forged
    signature refused by the store), then the whole consent group by custodian-download."""
    researcher, agreement = walk.browsers["researcher"], walk.made["agreement"]
    accepted = posted(researcher, f"{walk.api}/datasets/{walk.made['dataset']['id']}"
                      "/agreement/accept",
                      {"version": agreement["version"], "sha256": agreement["sha256"]}, 200)
    assert accepted["accepted"] is True
    vcf_key, _, table_key = walk.objects
    issued = researcher.get(f"{walk.api}/files/{walk.files[0]['id']}/url", timeout=10)
    assert issued.status_code == 200, issued.text
    url = issued.json()["url"]
    assert url.startswith(f"{walk.site.store.endpoint_url}/{walk.site.store.bucket}/{vcf_key}?")
    assert parse_qs(urlsplit(url).query)["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    fetched = requests.get(url, timeout=30)  # the URL is the credential: no cookie, no token
    assert fetched.status_code == 200 and fetched.content == walk.objects[vcf_key]
    forged = requests.get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), timeout=30)
    assert forged.status_code == 403

    token = posted(researcher, f"{walk.api}/tokens",
                   {"name": "laptop", "days": 1, "scopes": ["catalogue", "download"]})
    downloaded = download_with_the_client(walk.site, folder, token["token"])
    assert downloaded == {"chr1.vcf.gz": walk.objects[vcf_key],
                          "SubjectPhenotypes.txt": walk.objects[table_key]}


def operator_verifies_and_exports_the_log(walk: Walk, folder: Path) -> AuditExport:
    """`flask audit verify`, `flask audit export`, and the stand-alone verifier on the export,
    trusting only the public half of the signing key the operator configured: the checkpoints
    are signed by that key and no other."""
    verified = walk.site.flask("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "the chain is intact" in verified.stdout
    export = folder / "audit.jsonl"
    exported = walk.site.flask("audit", "export", str(export))
    assert exported.returncode == 0, exported.stderr
    public_key = folder / "audit-key.pem"
    public_key.write_bytes(walk.site.audit_public_key())
    offline = subprocess.run(
        [sys.executable, "-m", "audit.verify", str(export), "--public-key", str(public_key)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert offline.returncode == 0, offline.stdout + offline.stderr
    return AuditExport(export)


def assert_every_act_is_on_record_with_its_actor(walk: Walk, log: AuditExport) -> None:
    issuer, people, made = walk.site.provider.issuer, walk.people, walk.made
    admin = people["admin"]
    for login in ("admin", "official", "member", "chair"):
        [bound] = log.events("auth:invitation_bind", target_id=str(people[login]["id"]))
        assert log.actor(bound) == (people[login]["id"], issuer, login), login

    # The operator's acts: no user, the command and the OS user named.
    by_operator = [*log.events("admin:invitation_create", target_id=str(admin["id"])),
                   *log.events("admin:role_assign", target_id=str(admin["id"]))]
    assert len(by_operator) == 2
    for event in by_operator:
        assert event["actor_user_id"] is None
        assert event["details"]["operator"]["command"] == "flask users grant-role"
        assert event["details"]["operator"]["os_user"]
    assert by_operator[1]["details"]["role"] == "admin"

    # The admin's set-up, each act by the admin through the script's token.
    committee_id = str(made["committee"]["id"])
    admin_acts = {
        "admin:committee_create": [committee_id],
        "admin:invitation_create": [str(i["id"]) for i in walk.invited.values()],
        "admin:committee_member_add": [committee_id, committee_id],
        "admin:role_assign": [str(walk.invited["official"]["id"])],
        "admin:study_register": [str(made["study"]["id"])],
        "admin:dataset_register": [str(made["dataset"]["id"])],
        "admin:agreement_publish": [str(made["dataset"]["id"])],
        "admin:file_register": [str(f["id"]) for f in walk.files],
    }
    for action, targets in admin_acts.items():
        acts = [e for e in log.events(action) if e["actor_user_id"] == admin["id"]]
        assert sorted(e["target_id"] for e in acts) == sorted(targets), action
        for event in acts:
            assert log.actor(event) == (admin["id"], issuer, "admin"), action
            assert event["actor_token_id"] == made["token"]["id"], action
    seats = {(e["details"]["user_id"], e["details"]["chair"])
             for e in log.events("admin:committee_member_add")}
    assert seats == {(walk.invited["chair"]["id"], True), (walk.invited["member"]["id"], False)}
    [so_role] = log.events("admin:role_assign", target_id=str(walk.invited["official"]["id"]))
    assert so_role["details"] == {"role": "signing_official", "scope": INSTITUTION}

    # The request's way, each step by the person who took it.
    steps = {
        "request:create": "researcher", "request:submit": "researcher",
        "request:endorse": "official", "request:vote": "member", "request:approve": "chair",
        "agreement:accept": "researcher",
    }
    for action, login in steps.items():
        [event] = log.events(action)
        assert event["target_id"] in (str(made["request"]["id"]), str(made["dataset"]["id"]))
        assert log.actor(event) == (people[login]["id"], issuer, login), action
    [grant] = log.events("grant:create")
    assert grant["details"]["dataset_id"] == made["dataset"]["id"]
    assert grant["details"]["user_id"] == people["researcher"]["id"]
    issues = log.events("url:issue")
    assert {e["target_id"] for e in issues} == {str(f["id"]) for f in walk.files}
    assert {log.actor(e) for e in issues} == {(people["researcher"]["id"], issuer, "researcher")}
    assert log.events("audit:verify") and log.last["action"] == "audit:export"
    # Nothing on the way was refused or failed: the README's steps were enough.
    assert [(e["action"], e["outcome"]) for e in log.records if e["outcome"] != "success"] == []


def download_with_the_client(site: Site, folder: Path, token: str) -> dict[str, bytes]:
    """`custodian-download` on the researcher's machine, trusting the site's certificate as
    any requests-based client is told to (REQUESTS_CA_BUNDLE)."""
    machine = folder / "laptop"
    machine.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(machine), "PYTHONPATH": str(ROOT),
           "XDG_CONFIG_HOME": str(machine / ".config"),
           "REQUESTS_CA_BUNDLE": str(site.certificate)}

    def client(*args: str, stdin: str = "") -> str:
        done = subprocess.run([str(DOWNLOAD), *args], input=stdin, env=env, cwd=machine,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    client("login", site.base_url, "--token-stdin", stdin=f"{token}\n")
    said = client("download", "--dataset", CONSENT_GROUP, "-o", "data")
    assert said.count("SHA-256 verified") == 2, said
    return {path.name: path.read_bytes() for path in (machine / "data").iterdir()}


class AuditExport:
    """The JSON Lines export of README "Verifying the audit log offline", read back."""

    def __init__(self, path: Path) -> None:
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        self.records = [r for r in lines if r["type"] == "event"]
        self.last = self.records[-1]

    def events(self, action: str, *, target_id: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.records if r["action"] == action
                and (target_id is None or r["target_id"] == target_id)]

    @staticmethod
    def actor(event: dict[str, Any]) -> tuple[int | None, str | None, str | None]:
        return event["actor_user_id"], event["actor_issuer"], event["actor_subject"]
