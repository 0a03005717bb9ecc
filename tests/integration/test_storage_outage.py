"""The object store down: /readyz fails storage and no signed URL leaves (503, audited).

A store of its own (s3rver, which checks signatures), stopped in the middle of the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from audit.log.models import AuditEvent
from datasets.demo.set_up import set_up_demo
from tests.conftest import DemoInstance, issue_token
from tests.integration.test_s3_downloads import controlled_genotype, grant_access, s3_instance
from tests.s3rver import ACCESS_KEY, SECRET_ACCESS_KEY, S3Server, running_s3rver


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Server]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    with running_s3rver("outage") as server:
        yield server


@pytest.fixture
def s3_app(tmp_path: Path, store: S3Server) -> Iterator[DemoInstance]:
    demo = s3_instance(tmp_path, f"sqlite:///{tmp_path / 'custodian.db'}", store)
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        set_up_demo(
            session,
            issuer=demo.settings.dev_idp_issuer,
            storage=demo.app.extensions["custodian.storage"],
            now=demo.clock.now(),
        )
    yield demo
    demo.app.extensions["custodian.engine"].dispose()


def test_store_down_fails_readyz_and_refuses_urls_with_503_after_the_access_checks(
    s3_app: DemoInstance,
    store: S3Server,
) -> None:
    client = s3_app.app.test_client()
    researcher = issue_token(s3_app, "researcher")
    dataset_id, genotype = controlled_genotype(client)
    grant_access(
        client,
        researcher,
        issue_token(s3_app, "dac-chair"),
        dataset_id,
        issue_token(s3_app, "signing-official"),
    )
    url_path = f"/api/v1/files/{genotype['id']}/url"
    issued = client.get(url_path, headers=researcher)
    assert issued.status_code == 200, issued.get_json()
    assert requests.get(issued.get_json()["url"], timeout=10).status_code == 200

    store.stop()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"] == {
        "database": "ok", "storage": "unavailable", "audit": "ok", "audit_sequencer": "ok"
    }

    refused = client.get(url_path, headers=researcher)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "10"
    assert refused.get_json()["error"]["code"] == "storage_unavailable"
    assert "url" not in refused.get_json()
    drs = client.get(
        f"/ga4gh/drs/v1/objects/{genotype['id']}/access/signed-url", headers=researcher
    )
    assert drs.status_code == 503
    assert drs.get_json()["status_code"] == 503
    ticket = client.get(f"/ga4gh/htsget/v1/variants/{genotype['id']}", headers=researcher)
    assert ticket.status_code == 503, ticket.get_json()
    # Whoever may not download is told that first: the store's state is not theirs to see.
    stranger = client.get(url_path, headers=issue_token(s3_app, "researcher2"))
    assert stranger.status_code == 403

    with s3_app.app.extensions["custodian.session_factory"]() as session:
        refusals = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "url:refuse", AuditEvent.target_id == str(genotype["id"])
            )
        ).all()
    reasons = [event.details.get("reason") for event in refusals]
    assert reasons.count("storage_unavailable") == 3, reasons  # API, DRS, htsget


def test_a_process_that_finds_the_store_down_refuses_without_a_readiness_probe(
    s3_app: DemoInstance,
    store: S3Server,
) -> None:
    """No probe ran yet: the first URL request checks the store itself."""
    client = s3_app.app.test_client()
    open_file = next(
        f
        for d in client.get("/api/v1/datasets").get_json()["datasets"]
        if d["tier"] == "open"
        for f in client.get(f"/api/v1/datasets/{d['id']}").get_json()["files"]
    )
    store.stop()
    refused = client.get(f"/api/v1/files/{open_file['id']}/url")
    assert refused.status_code == 503
    assert refused.get_json()["error"]["code"] == "storage_unavailable"
