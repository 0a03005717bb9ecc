"""CSRF applies whenever the session cookie is what acts: a Bearer header exempts a request
only when it carries a live token that the route reads; every rejection is audited."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from audit.log.models import AuditEvent
from tests.conftest import DemoInstance, issue_token
from tests.integration.test_api_bad_input import assert_error_shape, counts
from tests.integration.test_pages_and_health import signed_in_client

JUNK = {"Authorization": "Bearer junk"}
FORM = {"title": "Valid title", "dataset_ids": "1",
        "research_use_statement": "Long enough research use statement here."}


def last_event(demo: DemoInstance) -> AuditEvent:
    with demo.app.extensions["custodian.session_factory"]() as session:
        found: AuditEvent = session.scalars(
            select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
        return found


def draft(client: FlaskClient) -> int:
    created = client.post("/api/v1/requests", headers={"X-CSRF-Token": "known-token"}, json={
        "title": "A draft", "research_use_statement": FORM["research_use_statement"],
        "dataset_ids": [1]})
    assert created.status_code == 201, created.get_json()
    return int(created.get_json()["id"])


def test_a_junk_bearer_header_does_not_lift_csrf_on_pages(demo: DemoInstance) -> None:
    client = signed_in_client(demo, "researcher")
    request_id = draft(client)
    before = counts(demo)
    for path, form in (("/tokens", {"name": "sneaky", "days": "7", "scopes": ["admin"],
                                    "form_id": "f1"}),
                       (f"/requests/{request_id}/revise", {**FORM, "title": "Changed"}),
                       ("/requests/new", FORM)):
        refused = client.post(path, data=form, headers=JUNK)
        assert refused.status_code == 400, (path, refused.status_code)
        assert "CSRF" in refused.get_data(as_text=True)
        refusal = last_event(demo)
        assert (refusal.action, refusal.outcome) == ("csrf:refused", "denied")
        assert refusal.actor_subject == "researcher" and refusal.details["path"] == path
    after = counts(demo)
    assert {k: v for k, v in after.items() if k != "AuditEvent"} == {
        k: v for k, v in before.items() if k != "AuditEvent"}


def test_a_junk_bearer_header_beside_a_cookie_is_refused_on_the_api(demo: DemoInstance) -> None:
    client = signed_in_client(demo, "researcher")
    before = counts(demo)
    refused = client.post("/api/v1/tokens", json={"name": "sneaky"}, headers=JUNK)
    assert_error_shape(refused, 401)
    assert counts(demo)["ApiToken"] == before["ApiToken"]


def test_a_cookie_without_csrf_token_is_refused_on_the_api_and_audited(
        demo: DemoInstance) -> None:
    client = signed_in_client(demo, "researcher")
    before = counts(demo)
    refused = client.post("/api/v1/tokens", json={"name": "sneaky"})
    assert assert_error_shape(refused, 400)["code"] == "csrf_failed"
    assert counts(demo)["ApiToken"] == before["ApiToken"]
    assert last_event(demo).action == "csrf:refused"


def test_a_live_token_needs_no_csrf_token(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    created = client.post("/api/v1/tokens", json={"name": "by token"},
                          headers=issue_token(demo, "researcher"))
    assert created.status_code == 201, created.get_json()
