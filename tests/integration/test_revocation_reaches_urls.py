"""Revocation reaches URLs already issued (local backend): the next request for the bytes,
ranges included, is refused and audited once the grant or the token behind the URL ends."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask.testing import FlaskClient
from sqlalchemy import select

from access.models import Grant
from audit.log.models import AuditEvent
from tests.conftest import DemoInstance, issue_token
from tests.integration.audit_support import controlled_files, grant_access, issue_url, user_id


def get(client: FlaskClient, url: str, **headers: str) -> int:
    parts = urlsplit(url)
    status: int = client.get(f"{parts.path}?{parts.query}", headers=headers).status_code
    return status


def last_event(demo: DemoInstance) -> AuditEvent:
    with demo.app.extensions["custodian.session_factory"]() as session:
        found: AuditEvent = session.scalars(
            select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
        return found


def request_of_grant(demo: DemoInstance, dataset_id: int) -> int:
    with demo.app.extensions["custodian.session_factory"]() as session:
        found: int = session.scalars(select(Grant.request_id)
                                     .where(Grant.dataset_id == dataset_id)).first()
        return found


def test_revoking_the_request_stops_an_issued_url_at_once(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    dataset_id = grant_access(demo)
    _, files = controlled_files(demo)
    url = issue_url(client, issue_token(demo, "researcher"), files[0])
    assert get(client, url) == 200
    assert get(client, url, Range="bytes=0-9") == 206
    revoked = client.post(f"/api/v1/requests/{request_of_grant(demo, dataset_id)}/revoke",
                          headers=issue_token(demo, "dac-chair"), json={"reason": "Misuse."})
    assert revoked.status_code == 200, revoked.get_json()
    assert get(client, url) == 403
    assert get(client, url, Range="bytes=10-19") == 403
    refusal = last_event(demo)
    assert (refusal.action, refusal.outcome) == ("file:refuse", "denied")
    assert refusal.details["reason"] == "grant_revoked"
    assert refusal.details["url_user"].startswith(f"{user_id(demo, 'researcher')}-t")


def test_revoking_the_token_that_asked_stops_its_urls(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    grant_access(demo)
    _, files = controlled_files(demo)
    owner = issue_token(demo, "researcher")
    made = client.post("/api/v1/tokens", headers=owner,
                       json={"name": "job", "scopes": ["download"]}).get_json()
    url = issue_url(client, {"Authorization": f"Bearer {made['token']}"}, files[0])
    assert get(client, url, Range="bytes=0-9") == 206
    assert client.delete(f"/api/v1/tokens/{made['id']}", headers=owner).status_code == 204
    assert get(client, url, Range="bytes=10-19") == 403
    refusal = last_event(demo)
    assert refusal.action == "file:refuse" and refusal.details["reason"] == "token_revoked"
    assert refusal.details["url_user"] == f"{user_id(demo, 'researcher')}-t{made['id']}"
    # A URL the person asked for from a session is not tied to that token.
    session_url = issue_url(client, owner, files[0])
    assert get(client, session_url) == 200


def test_controlled_downloads_are_gzip_with_one_date_header(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    grant_access(demo)
    _, files = controlled_files(demo)
    url = issue_url(client, issue_token(demo, "researcher"), files[0])
    parts = urlsplit(url)
    served = client.get(f"{parts.path}?{parts.query}")
    assert served.status_code == 200
    name = served.headers["Content-Disposition"]
    if ".vcf.gz" in name:
        assert served.headers["Content-Type"] == "application/gzip"
    assert "vcard" not in served.headers["Content-Type"]
    assert len(served.headers.getlist("Date")) <= 1
