"""A passport in the identity provider's userinfo (panva's oidc-provider) opens downloads.

The provider returns ``ga4gh_passport_v1`` (a good visa and one not asserted by a DAC) from
userinfo; the broker that signed the visas serves its keys over HTTP; the service trusts it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from access.passports.models import PassportGrant
from audit.log.models import AuditEvent
from datasets.catalogue.models import Dataset
from datasets.demo.set_up import set_up_demo
from datasets.demo.synthetic_study import CONSENT_GROUP_ACCESSION
from tests.live_server import running_service
from tests.oidc_provider import NodeProvider, authorize
from tests.passport_broker import Broker
from tests.ports import reserve_port

CLIENT_ID = "custodian-passports"
CLIENT_SECRET = "a-client-secret-for-the-passport-sign-in-test"


@pytest.fixture
def broker() -> Iterator[Broker]:
    started = Broker().start()
    yield started
    started.stop()


def test_visas_in_userinfo_at_sign_in_become_grants_checked_at_each_url_request(
    tmp_path: Path, fresh_database_url: str, broker: Broker,
) -> None:
    now = datetime.now(UTC)
    good = broker.visa(CONSENT_GROUP_ACCESSION, now=now)
    peer = broker.visa(CONSENT_GROUP_ACCESSION, now=now, by="peer")
    app_port = reserve_port()
    base = f"http://127.0.0.1:{app_port}"
    provider = NodeProvider(reserve_port(), CLIENT_ID, CLIENT_SECRET, f"{base}/auth/callback",
                            tmp_path / "oidc-provider.log", passport=json.dumps([good, peer]))
    provider.start()
    try:
        with running_service({
            "ENV": "demo", "DEV_IDP": "false", "INSTANCE_DIR": str(tmp_path / "instance"),
            "DATABASE_URL": fresh_database_url, "PUBLIC_URL": base,
            "OIDC_DISCOVERY_URL": provider.discovery_url, "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "PASSPORT_TRUSTED_BROKERS": json.dumps({broker.issuer: [broker.jku]}),
        }, app_port) as app:
            factory = app.extensions["custodian.session_factory"]
            with factory.begin() as session:
                set_up_demo(session, issuer=f"{base}/unused-idp",
                            storage=app.extensions["custodian.storage"], now=now)
            with factory() as session:
                dataset = session.scalars(select(Dataset).where(
                    Dataset.accession == CONSENT_GROUP_ACCESSION)).one()
                file_id, dataset_id = dataset.files[0].id, dataset.id

            browser = requests.Session()
            callback = authorize(browser, f"{base}/auth/login?next=/requests", "alice",
                                 f"{base}/auth/callback")
            assert browser.get(callback, timeout=10).status_code == 200
            issued = browser.get(f"{base}/api/v1/files/{file_id}/url", timeout=10)
            assert issued.status_code == 200, issued.text

            with factory() as session:
                [row] = session.scalars(select(PassportGrant)).all()
                events = {e.action: e for e in session.scalars(select(AuditEvent))}
            assert (row.dataset_id, row.issuer) == (dataset_id, broker.issuer)
            assert row.visa_hash == hashlib.sha256(good.encode()).hexdigest()
            assert abs(row.expires_at - (now + timedelta(hours=1))) < timedelta(seconds=2)
            assert events["passport:visa_accept"].actor_subject == "alice"
            assert events["passport:visa_refuse"].details["reason"] == "not_by_dac"
            assert events["url:issue"].details["granted_by"] == "sign_in_visa"
            assert broker.requests == ["/jwks.json"]

            # The grant ends with the visa: expire the stored row and ask again.
            with factory.begin() as session:
                session.get(PassportGrant, row.id).expires_at = now
            again = browser.get(f"{base}/api/v1/files/{file_id}/url", timeout=10)
            assert again.status_code == 403
    finally:
        provider.stop()
