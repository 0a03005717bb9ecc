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


def test_an_institution_sets_up_without_sql_and_a_researcher_downloads_verified_bytes(
    site: Site, tmp_path: Path,
) -> None:
    api = f"{site.base_url}/api/v1"
    issuer = site.provider.issuer

    # The operator: objects into the bucket with their own S3 client, then the first admin.
    objects = stored_objects(tmp_path)
    s3 = site.s3_client()
    for key, content in objects.items():
        s3.put_object(Bucket=site.store.bucket, Key=key, Body=content)
    granted = site.flask("users", "grant-role", "admin", "--email", "admin@example.org")
    assert granted.returncode == 0, granted.stderr
    assert "Gave admin to user" in granted.stdout

    # The admin signs in for the first time and is bound; a token drives the set-up script.
    admin_browser, admin = site.sign_in("admin")
    assert admin["roles"] == ["admin"]
    token = posted(admin_browser, f"{api}/tokens",
                   {"name": "set-up script", "days": 1, "scopes": ["admin", "catalogue"]})
    script = site.bearer(token["token"])

    committee = posted(script, f"{api}/committees", {"name": "GTEx Data Access Committee"})
    people: dict[str, dict[str, Any]] = {
        "chair": {"committees": [{"committee_id": committee["id"], "chair": True}]},
        "member": {"committees": [{"committee_id": committee["id"], "chair": False}],
                   "issuer": issuer},
        "official": {"roles": [{"role": "signing_official", "scope": INSTITUTION}]},
    }
    invited = {login: posted(script, f"{api}/users", {"email": f"{login}@example.org", **body})
               for login, body in people.items()}
    assert {i["status"] for i in invited.values()} == {"invited"}

    study = posted(script, f"{api}/studies", {
        "accession": STUDY, "title": "Genotype-Tissue Expression",
        "description": "Genotypes and phenotypes of post-mortem donors."})
    dataset = posted(script, f"{api}/datasets", {
        "study_id": study["id"], "accession": CONSENT_GROUP, "name": "General Research Use",
        "tier": "controlled", "committee_id": committee["id"], "duo_codes": ["GRU"],
        "use_limitation_text": "Use of the data is limited only by the terms of the DUA."})
    agreement = posted(script, f"{api}/datasets/{dataset['id']}/agreements",
                       {"text": "I will not attempt to identify any donor."})
    vcf_key, index_key, table_key = objects
    registered = [
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

    # A researcher requests; the invited official, member and chair sign in for the first time.
    researcher_browser, researcher = site.sign_in("researcher")
    assert researcher["institution"] == INSTITUTION
    request = posted(researcher_browser, f"{api}/requests", {
        "title": "Ageing eQTLs", "research_use_statement": STATEMENT,
        "dataset_ids": [dataset["id"]]})
    requested = f"{api}/requests/{request['id']}"
    assert posted(researcher_browser, f"{requested}/submit", status=200)["state"] == "submitted"

    official_browser, official = site.sign_in("official")
    assert (official["id"], official["roles"]) == (invited["official"]["id"], ["signing_official"])
    assert posted(official_browser, f"{requested}/endorse",
                  {"comment": "A postdoc of our genetics department."}, 200)["state"] == "endorsed"
    member_browser, member = site.sign_in("member")
    assert member["id"] == invited["member"]["id"]
    posted(member_browser, f"{requested}/vote",
           {"vote": "approve", "rationale": "GRU consent covers the stated use."}, 200)
    chair_browser, chair = site.sign_in("chair")
    assert chair["id"] == invited["chair"]["id"]
    approved = posted(chair_browser, f"{requested}/approve",
                      {"reason": "Consistent with GRU consent.", "days": 30}, 200)
    assert approved["state"] == "approved"

    # The researcher accepts the agreement and downloads through presigned S3 URLs.
    assert posted(researcher_browser, f"{api}/datasets/{dataset['id']}/agreement/accept",
                  {"version": agreement["version"], "sha256": agreement["sha256"]},
                  200)["accepted"] is True
    issued = researcher_browser.get(f"{api}/files/{registered[0]['id']}/url", timeout=10)
    assert issued.status_code == 200, issued.text
    url = issued.json()["url"]
    assert url.startswith(f"{site.store.endpoint_url}/{site.store.bucket}/{vcf_key}?")
    assert parse_qs(urlsplit(url).query)["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    fetched = requests.get(url, timeout=30)  # the URL is the credential: no cookie, no token
    assert fetched.status_code == 200 and fetched.content == objects[vcf_key]
    forged = requests.get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), timeout=30)
    assert forged.status_code == 403

    download_token = posted(researcher_browser, f"{api}/tokens",
                            {"name": "laptop", "days": 1, "scopes": ["catalogue", "download"]})
    downloaded = download_with_the_client(site, tmp_path, download_token["token"])
    assert downloaded["chr1.vcf.gz"] == objects[vcf_key]
    assert downloaded["SubjectPhenotypes.txt"] == objects[table_key]

    # The operator checks the log, exports it and verifies the export offline.
    verified = site.flask("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "the chain is intact" in verified.stdout
    export = tmp_path / "audit.jsonl"
    exported = site.flask("audit", "export", str(export))
    assert exported.returncode == 0, exported.stderr
    public_key = tmp_path / "audit-key.pem"
    public_key.write_text(site.flask("audit", "public-key").stdout)
    offline = subprocess.run(
        [sys.executable, "-m", "audit.verify", str(export), "--public-key", str(public_key)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert offline.returncode == 0, offline.stdout + offline.stderr

    log = AuditExport(export)
    users = {"admin": admin, "researcher": researcher, "official": official, "member": member,
             "chair": chair}
    for login, user in users.items():
        if login != "researcher":
            [bound] = log.events("auth:invitation_bind", target_id=str(user["id"]))
            assert log.actor(bound) == (user["id"], issuer, login), login

    # The operator's acts: no user, the command and the OS user named.
    by_operator = [*log.events("admin:invitation_create", target_id=str(admin["id"])),
                   *log.events("admin:role_assign", target_id=str(admin["id"]))]
    assert len(by_operator) == 2
    for event in by_operator:
        assert event["actor_user_id"] is None
        assert event["details"]["operator"]["command"] == "flask users grant-role"
        assert event["details"]["operator"]["os_user"]
    [role] = log.events("admin:role_assign", target_id=str(admin["id"]))
    assert role["details"]["role"] == "admin"

    # The admin's set-up, each act with the admin and the token it came through.
    admin_acts = {
        "admin:committee_create": [str(committee["id"])],
        "admin:invitation_create": [str(i["id"]) for i in invited.values()],
        "admin:committee_member_add": [str(committee["id"])] * 2,
        "admin:role_assign": [str(invited["official"]["id"])],
        "admin:study_register": [str(study["id"])],
        "admin:dataset_register": [str(dataset["id"])],
        "admin:agreement_publish": [str(dataset["id"])],
        "admin:file_register": [str(f["id"]) for f in registered],
    }
    for action, targets in admin_acts.items():
        acts = [e for e in log.events(action) if e["actor_user_id"] == admin["id"]]
        assert sorted(e["target_id"] for e in acts) == sorted(targets), action
        for event in acts:
            assert log.actor(event) == (admin["id"], issuer, "admin"), action
            assert event["actor_token_id"] == token["id"], action
    seats = {(e["details"]["user_id"], e["details"]["chair"])
             for e in log.events("admin:committee_member_add")}
    assert seats == {(invited["chair"]["id"], True), (invited["member"]["id"], False)}
    [so_role] = log.events("admin:role_assign", target_id=str(invited["official"]["id"]))
    assert so_role["details"] == {"role": "signing_official", "scope": INSTITUTION}

    # The request's way, each step by the person who took it.
    steps = {
        "request:create": "researcher", "request:submit": "researcher",
        "request:endorse": "official", "request:vote": "member", "request:approve": "chair",
        "agreement:accept": "researcher",
    }
    for action, login in steps.items():
        [event] = log.events(action)
        assert log.actor(event) == (users[login]["id"], issuer, login), action
    [grant] = log.events("grant:create")
    assert grant["details"]["dataset_id"] == dataset["id"]
    issues = log.events("url:issue")
    assert {e["target_id"] for e in issues} == {str(f["id"]) for f in registered}
    assert {log.actor(e) for e in issues} == {(researcher["id"], issuer, "researcher")}
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
