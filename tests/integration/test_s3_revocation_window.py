"""Revocation and S3: the store serves the bytes and cannot ask us, so a URL issued before a
revocation keeps working until it expires. The window is measured here against s3rver (which
checks SigV4 expiry), URLs are short-lived on S3 by default, and the download client renews
its URL as it goes, so a revoked grant stops a transfer at its next ranged request."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import requests
from sqlalchemy import select

from access.models import Grant
from app import create_app
from audit.log.models import AuditEvent
from config import load_settings
from core.clock import MovableClock
from core.migrations import upgrade
from datasets.client import login_file, service, transfer
from datasets.client import main as client_main
from datasets.demo.set_up import set_up_demo
from tests.conftest import DemoInstance, issue_token, serving
from tests.integration.test_s3_downloads import controlled_genotype, grant_access
from tests.ports import HeldPort
from tests.s3rver import S3Server
from tests.unit.test_settings import PRODUCTION, S3

LIFETIME = 10  # seconds: the shortest the settings allow, so the test waits little


@pytest.fixture
def short_lived(tmp_path: Path, s3_server: S3Server) -> Iterator[DemoInstance]:
    """A demo app on S3 whose URLs live LIFETIME seconds, on the real clock (S3 counts a URL's
    life on it), with access granted to the researcher; served on a port of its own."""
    port = HeldPort()
    settings = load_settings(
        environ={},
        overrides={
            "ENV": "demo",
            "INSTANCE_DIR": str(tmp_path),
            "PUBLIC_URL": port.url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'custodian.db'}",
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": s3_server.bucket,
            "S3_ENDPOINT_URL": s3_server.endpoint_url,
            "S3_ADDRESSING_STYLE": "path",
            "S3_KEY_PREFIX": f"window-{uuid4().hex}",
            "SIGNED_URL_SECONDS": str(LIFETIME),
            "SIGNED_URL_MAX_SECONDS": str(LIFETIME),
            "RATE_LIMITS": "false",
        },
    )
    app = create_app(settings)
    upgrade(app.extensions["custodian.engine"])
    with app.extensions["custodian.session_factory"].begin() as session:
        set_up_demo(
            session,
            issuer=settings.dev_idp_issuer,
            storage=app.extensions["custodian.storage"],
            now=app.extensions["custodian.clock"].now(),
        )
    demo = DemoInstance(app, MovableClock(), settings, port.url)
    client = app.test_client()
    dataset_id, _ = controlled_genotype(client)
    grant_access(
        client,
        issue_token(demo, "researcher"),
        issue_token(demo, "dac-chair"),
        dataset_id,
        issue_token(demo, "signing-official"),
    )
    try:
        with serving(demo):
            yield demo
    finally:
        app.extensions["custodian.engine"].dispose()
        port.close()


def revoke(demo: DemoInstance) -> None:
    with demo.app.extensions["custodian.session_factory"]() as session:
        request_id = session.scalars(select(Grant.request_id)).first()
    revoked = requests.post(
        f"{demo.base_url}/api/v1/requests/{request_id}/revoke",
        headers=issue_token(demo, "dac-chair"),
        json={"reason": "Misuse."},
        timeout=10,
    )
    assert revoked.status_code == 200, revoked.text


def test_an_issued_s3_url_outlives_a_revocation_by_at_most_its_lifetime(
    short_lived: DemoInstance,
) -> None:
    researcher = issue_token(short_lived, "researcher")
    _, genotype = controlled_genotype(short_lived.app.test_client())
    issued = requests.get(
        f"{short_lived.base_url}/api/v1/files/{genotype['id']}/url", headers=researcher, timeout=10
    ).json()
    expires_at = datetime.fromisoformat(issued["expires_at"])
    assert requests.get(issued["url"], timeout=10).status_code == 200
    revoke(short_lived)
    revoked_at = time.time()
    refused = requests.get(
        f"{short_lived.base_url}/api/v1/files/{genotype['id']}/url", headers=researcher, timeout=10
    )
    assert refused.status_code == 403  # no new URL at once...
    assert requests.get(issued["url"], timeout=10).status_code == 200  # ...the old one lives
    while (answer := requests.get(issued["url"], timeout=10)).status_code == 200:
        assert time.time() - revoked_at < LIFETIME + 5, "the URL outlived its lifetime"
        time.sleep(0.2)
    window = time.time() - revoked_at
    assert answer.status_code == 403 and "expired" in answer.text
    assert 0 < window <= LIFETIME + 1.5, window
    assert abs(time.time() - expires_at.timestamp()) < 2  # it ended when the API said
    print(f"S3 revocation window measured: {window:.1f} s (URL lifetime {LIFETIME} s)")


def test_s3_urls_are_short_lived_by_default() -> None:
    s3 = load_settings({**PRODUCTION, **S3})
    assert (s3.signed_url_default_seconds, s3.signed_url_max_seconds) == (300, 600)
    local = load_settings(PRODUCTION)
    assert (local.signed_url_default_seconds, local.signed_url_max_seconds) == (900, 3600)


def download(
    demo: DemoInstance, home: Path, file_id: int, monkeypatch: pytest.MonkeyPatch, hook: Any = None
) -> int:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    token = issue_token(demo, "researcher")["Authorization"].removeprefix("Bearer ")
    login_file.save(login_file.Login(demo.base_url, token))
    if hook is not None:
        made = service.new_session

        def hooked() -> requests.Session:
            session = made()
            session.hooks["response"].append(hook)
            return session

        monkeypatch.setattr(transfer, "new_session", hooked)
    return client_main.main(["download", str(file_id), "-o", str(home), "--chunk-size", "20000"])


def issued_for(demo: DemoInstance, file_id: int) -> int:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return len(
            session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "url:issue", AuditEvent.target_id == str(file_id)
                )
            ).all()
        )


def test_the_client_renews_its_url_as_it_goes(
    short_lived: DemoInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every URL here has less than the client's margin left, so each ranged request of the
    transfer gets a fresh one: the grant is checked again before every request."""
    _, genotype = controlled_genotype(short_lived.app.test_client())
    assert download(short_lived, tmp_path, genotype["id"], monkeypatch) == 0
    chunks = -(-genotype["size"] // 20000)
    # The first URL, then a fresh one before each of the chunks' requests.
    assert issued_for(short_lived, genotype["id"]) == chunks + 1 > 2
    assert transfer.sha256_of(tmp_path / genotype["name"]) == genotype["sha256"]


def test_a_revocation_stops_the_client_at_its_next_request(
    short_lived: DemoInstance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, genotype = controlled_genotype(short_lived.app.test_client())
    revoked: list[bool] = []

    def revoke_after_the_first_chunk(response: requests.Response, *_: Any, **__: Any) -> None:
        if response.status_code == 206 and not revoked:
            revoked.append(True)
            revoke(short_lived)

    code = download(
        short_lived, tmp_path, genotype["id"], monkeypatch, revoke_after_the_first_chunk
    )
    assert code != 0 and revoked
    assert "403" in capsys.readouterr().err
    assert not (tmp_path / genotype["name"]).exists()
    assert (tmp_path / f"{genotype['name']}.part").stat().st_size == 20000
