"""Revoking a personal API token: only its owner can, it works at once, and it is audited."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from audit.log.models import AuditEvent
from tests.conftest import DemoInstance, issue_token
from tests.integration.audit_support import event_count
from tests.integration.test_api_bad_input import assert_error_shape


def new_token(client: FlaskClient, owner: dict[str, str]) -> tuple[int, dict[str, str]]:
    created = client.post("/api/v1/tokens", headers=owner,
                          json={"name": "script", "scopes": ["catalogue", "tokens"]})
    assert created.status_code == 201
    return created.get_json()["id"], {"Authorization": f"Bearer {created.get_json()['token']}"}


def test_owner_revokes_a_token_and_it_stops_working(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    token_id, bearer = new_token(client, issue_token(demo, "researcher"))
    assert client.get("/api/v1/users/me", headers=bearer).status_code == 200
    revoked = client.delete(f"/api/v1/tokens/{token_id}", headers=bearer)
    assert revoked.status_code == 204 and revoked.get_data() == b""
    assert_error_shape(client.get("/api/v1/users/me", headers=bearer), 401)
    with demo.app.extensions["custodian.session_factory"]() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "token:revoke")).one()
    assert (event.target_type, event.target_id) == ("api_token", str(token_id))
    assert event.actor_subject == "researcher" and event.details == {"name": "script"}


def test_nobody_else_can_revoke_it_and_twice_is_a_conflict(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    owner = issue_token(demo, "researcher")
    token_id, _ = new_token(client, owner)
    before = event_count(demo)
    for someone_else in ("researcher2", "admin"):
        refused = client.delete(f"/api/v1/tokens/{token_id}",
                                headers=issue_token(demo, someone_else))
        assert_error_shape(refused, 404)
    assert_error_shape(client.delete("/api/v1/tokens/999999", headers=owner), 404)
    # The two tokens issued above, and each of the three refusals: nothing else.
    assert event_count(demo) == before + 2 + 3
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=owner).status_code == 204
    assert_error_shape(client.delete(f"/api/v1/tokens/{token_id}", headers=owner), 409)
