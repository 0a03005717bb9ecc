"""The app on the S3 backend, end to end: a grant yields a URL the store honours, and only then."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from uuid import uuid4

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import func, select

from access.identity.actor import Actor
from app import create_app
from audit.log.models import AuditEvent
from config import load_settings
from core.clock import MovableClock
from core.migrations import upgrade
from datasets.catalogue.manifest_import import import_manifest
from datasets.catalogue.models import DataFile
from datasets.demo import synthetic_study as demo_study
from datasets.demo.set_up import set_up_demo
from datasets.storage import S3Storage, StorageUnavailable
from datasets.storage.s3 import USER_QUERY_PARAMETER
from tests.agreements import accept_with_client
from tests.conftest import DemoInstance, issue_token
from tests.ports import HeldPort
from tests.s3rver import S3Server

STATEMENT = "We study tissue-specific regulation of gene expression in ageing adults."


def s3_instance(instance_dir: Path, database_url: str, s3_server: S3Server) -> DemoInstance:
    """A migrated demo-mode app whose storage is the S3 store, under a prefix of its own."""
    settings = load_settings(environ={}, overrides={
        "ENV": "demo", "INSTANCE_DIR": str(instance_dir), "DATABASE_URL": database_url,
        "PUBLIC_URL": "http://127.0.0.1:5000", "STORAGE_BACKEND": "s3",
        "S3_BUCKET": s3_server.bucket, "S3_ENDPOINT_URL": s3_server.endpoint_url,
        "S3_ADDRESSING_STYLE": "path", "S3_KEY_PREFIX": f"app-{uuid4().hex}",
    })
    clock = MovableClock()
    app = create_app(settings, clock=clock)
    upgrade(app.extensions["custodian.engine"])
    return DemoInstance(app, clock, settings, settings.public_url)


@pytest.fixture(scope="module")
def s3_demo(tmp_path_factory: pytest.TempPathFactory,
            s3_server: S3Server) -> Iterator[DemoInstance]:
    """Seeded once: its tests use different personas, so they cannot see each other's grants."""
    instance = tmp_path_factory.mktemp("s3-demo")
    demo = s3_instance(instance, f"sqlite:///{instance / 'custodian.db'}", s3_server)
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        set_up_demo(session, issuer=demo.settings.dev_idp_issuer,
                    storage=demo.app.extensions["custodian.storage"], now=demo.clock.now())
    yield demo
    demo.app.extensions["custodian.engine"].dispose()


def controlled_genotype(client: FlaskClient) -> tuple[int, dict[str, Any]]:
    datasets = client.get("/api/v1/datasets").get_json()["datasets"]
    controlled = next(d for d in datasets if d["tier"] == "controlled")
    files = client.get(f"/api/v1/datasets/{controlled['id']}").get_json()["files"]
    return controlled["id"], next(f for f in files if f["kind"] == "genotype")


def grant_access(client: FlaskClient, researcher: dict[str, str], chair: dict[str, str],
                 dataset_id: int, official: dict[str, str]) -> None:
    """File and submit; the signing official endorses; the chair approves."""
    filed = client.post("/api/v1/requests", headers=researcher, json={
        "title": "Ageing eQTLs", "research_use_statement": STATEMENT, "dataset_ids": [dataset_id]})
    assert filed.status_code == 201, filed.get_json()
    request_id = filed.get_json()["id"]
    assert client.post(f"/api/v1/requests/{request_id}/submit", headers=researcher).status_code \
        == 200
    assert client.post(f"/api/v1/requests/{request_id}/endorse", headers=official).status_code \
        == 200
    approved = client.post(f"/api/v1/requests/{request_id}/approve", headers=chair,
                           json={"reason": "Consistent with GRU consent.", "days": 30})
    assert approved.status_code == 200, approved.get_json()
    accept_with_client(client, dataset_id, researcher)


def test_researcher_with_a_grant_downloads_the_exact_bytes_from_s3(
    s3_demo: DemoInstance, s3_server: S3Server
) -> None:
    client = s3_demo.app.test_client()
    researcher = issue_token(s3_demo, "researcher")
    dataset_id, genotype = controlled_genotype(client)
    grant_access(client, researcher, issue_token(s3_demo, "dac-chair"), dataset_id,
                 issue_token(s3_demo, "signing-official"))

    issued = client.get(f"/api/v1/files/{genotype['id']}/url", headers=researcher)
    assert issued.status_code == 200, issued.get_json()
    url = issued.get_json()["url"]
    assert url.startswith(f"{s3_server.endpoint_url}/{s3_server.bucket}/app-")
    me = client.get("/api/v1/users/me", headers=researcher).get_json()
    # Whom the URL is for, signed into it: the user, and the API token that asked for it.
    principal = dict(parse_qsl(urlsplit(url).query))[USER_QUERY_PARAMETER]
    assert re.fullmatch(rf"{me['id']}-t[0-9]+", principal), principal

    download = requests.get(url, timeout=30)
    assert download.status_code == 200, download.text
    assert hashlib.sha256(download.content).hexdigest() == genotype["sha256"]
    assert download.headers["Content-Disposition"] == f'attachment; filename="{genotype["name"]}"'

    parts = urlsplit(url)
    as_someone_else = {**dict(parse_qsl(parts.query)), USER_QUERY_PARAMETER: str(me["id"] + 1)}
    forged = urlunsplit((*parts[:3], urlencode(as_someone_else), ""))
    assert requests.get(forged, timeout=30).status_code == 403


def test_without_a_grant_no_url_is_issued(s3_demo: DemoInstance) -> None:
    client = s3_demo.app.test_client()
    _, genotype = controlled_genotype(client)
    refused = client.get(f"/api/v1/files/{genotype['id']}/url",
                         headers=issue_token(s3_demo, "researcher2"))
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden"
    assert "url" not in refused.get_json()


def test_readiness_checks_the_bucket(s3_demo: DemoInstance) -> None:
    ready = s3_demo.app.test_client().get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json()["checks"]["storage"] == "ok"


def test_upload_demo_puts_the_study_in_the_bucket_and_registers_it_once(
    tmp_path: Path, fresh_database_url: str, s3_server: S3Server
) -> None:
    demo = s3_instance(tmp_path / "instance", fresh_database_url, s3_server)
    runner = demo.app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["datasets", "upload-demo"])
        assert result.exit_code == 0, result.output
    storage = demo.app.extensions["custodian.storage"]
    assert isinstance(storage, S3Storage)
    with demo.app.extensions["custodian.session_factory"]() as session:
        files = session.scalars(select(DataFile)).all()
        registrations = session.scalar(select(func.count()).select_from(AuditEvent)
                                       .where(AuditEvent.action == "admin:file_register"))
    assert files and registrations == len(files)
    assert {f.storage_key.split("/")[0] for f in files} == {demo_study.STUDY_ACCESSION}
    for data_file in files:
        assert storage.size_of(data_file.storage_key) == data_file.size
    demo.app.extensions["custodian.engine"].dispose()


def manifest_line(key: str, content: bytes, **changes: str) -> str:
    values = {"location": key, "kind": "expression", "tier": "controlled",
              "dataset": demo_study.CONSENT_GROUP_ACCESSION, "size": str(len(content)),
              "sha256": hashlib.sha256(content).hexdigest(),
              "md5": hashlib.md5(content, usedforsecurity=False).hexdigest()}
    values.update(changes)
    return "\t".join(values.values())


def test_import_checks_s3_objects_and_registers_all_or_nothing(
    s3_demo: DemoInstance, tmp_path: Path
) -> None:
    storage = s3_demo.app.extensions["custodian.storage"]
    objects = {f"imports/{n}.gct.gz": f"expression matrix {n}".encode() * 1000 for n in "ab"}
    for key, content in objects.items():
        (tmp_path / "object").write_bytes(content)
        storage.put_file(key, tmp_path / "object")
    (a_key, a), (b_key, b) = objects.items()
    header = "location\tkind\ttier\tdataset\tsize\tsha256\tmd5"
    manifest = tmp_path / "manifest.tsv"
    runner = s3_demo.app.test_cli_runner()

    # Same size, different bytes: only reading the object through can tell.
    manifest.write_text(f"{header}\n{manifest_line(a_key, a)}\n"
                        f"{manifest_line(b_key, b, sha256=hashlib.sha256(a).hexdigest())}\n")
    refused = runner.invoke(args=["datasets", "import", str(manifest)])
    assert refused.exit_code == 1
    assert "line 3: sha256 is" in refused.output and "line 2" not in refused.output

    manifest.write_text(f"{header}\n{manifest_line(a_key, a)}\n{manifest_line(b_key, b)}\n")
    imported = runner.invoke(args=["datasets", "import", str(manifest)])
    assert imported.exit_code == 0, imported.output
    with s3_demo.app.extensions["custodian.session_factory"]() as session:
        registered = session.scalars(select(DataFile.storage_key).where(
            DataFile.storage_key.in_(objects))).all()
    assert sorted(registered) == sorted(objects)


def test_import_with_the_store_down_registers_nothing(
    s3_demo: DemoInstance, tmp_path: Path
) -> None:
    nothing_listens = HeldPort()  # bound, never listening: connections are refused
    down = S3Storage("custodian-test", region="us-east-1", addressing_style="path",
                     endpoint_url=nothing_listens.url)
    manifest = "location\tkind\ttier\tdataset\tsize\tsha256\tmd5\n" + manifest_line("k", b"x")
    with (s3_demo.app.extensions["custodian.session_factory"].begin() as session,
          pytest.raises(StorageUnavailable, match="Could not connect")):
        import_manifest(session, Actor(user=None), manifest, storage=down,
                        now=s3_demo.clock.now())
    nothing_listens.close()
