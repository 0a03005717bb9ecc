"""Every refusal is on record: probing other people's requests and tokens (404s that reveal
nothing to the prober), and acting on a committee one does not sit on."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from audit.log.models import AuditEvent
from tests.conftest import DemoInstance, issue_token
from tests.integration.test_api_bad_input import assert_error_shape

STATEMENT = "A research-use statement that is long enough to pass validation."


def last_event(demo: DemoInstance) -> AuditEvent:
    with demo.app.extensions["custodian.session_factory"]() as session:
        found: AuditEvent = session.scalars(
            select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
        return found


def filed(client: FlaskClient, researcher: dict[str, str]) -> int:
    made = client.post("/api/v1/requests", headers=researcher, json={
        "title": "Mine", "research_use_statement": STATEMENT, "dataset_ids": [1]})
    assert made.status_code == 201, made.get_json()
    return int(made.get_json()["id"])


def test_probing_someone_elses_request_is_audited(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    request_id = filed(client, issue_token(demo, "researcher"))
    prober = issue_token(demo, "researcher2")
    for target, reason in ((request_id, "not_visible"), (987654, "no_such_request")):
        for method, path in (("GET", f"/api/v1/requests/{target}"),
                             ("POST", f"/api/v1/requests/{target}/withdraw")):
            missing = assert_error_shape(client.open(path, method=method, headers=prober), 404)
            assert missing["message"] == f"No access request {target}."  # the same both ways
            event = last_event(demo)
            assert (event.action, event.outcome) == ("request:refused", "denied")
            assert event.actor_subject == "researcher2"
            assert (event.target_type, event.target_id) == ("access_request", str(target))
            assert event.details["reason"] == reason


def test_probing_someone_elses_token_is_audited(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    made = client.post("/api/v1/tokens", headers=issue_token(demo, "researcher"),
                       json={"name": "theirs"}).get_json()
    prober = issue_token(demo, "researcher2")
    assert_error_shape(client.delete(f"/api/v1/tokens/{made['id']}", headers=prober), 404)
    event = last_event(demo)
    assert (event.action, event.outcome, event.target_id) == ("token:refused", "denied",
                                                             str(made["id"]))
    assert event.details["reason"] == "not_yours" and event.actor_subject == "researcher2"


def test_a_queue_of_a_committee_one_does_not_sit_on_is_refused_and_audited(
        demo: DemoInstance) -> None:
    client = demo.app.test_client()
    assert_error_shape(client.get("/api/v1/committees/1/queue",
                                  headers=issue_token(demo, "researcher")), 403)
    event = last_event(demo)
    assert (event.action, event.target_type, event.target_id) == ("request:refused",
                                                                  "committee", "1")
    assert event.details["reason"] == "not_a_member"


def test_deciding_for_another_committee_is_refused_and_audited(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    researcher = issue_token(demo, "researcher")
    request_id = filed(client, researcher)
    assert client.post(f"/api/v1/requests/{request_id}/submit", headers=researcher
                       ).status_code == 200
    assert client.post(f"/api/v1/requests/{request_id}/endorse",
                       headers=issue_token(demo, "signing-official")).status_code == 200
    chair, member = issue_token(demo, "dac-chair"), issue_token(demo, "dac-member")
    for headers, action, body in (
            (chair, "approve", {"reason": "ok", "committee_id": 4242}),
            (member, "vote", {"vote": "approve", "rationale": "ok", "committee_id": 4242})):
        refused = client.post(f"/api/v1/requests/{request_id}/{action}", headers=headers,
                              json=body)
        assert_error_shape(refused, 403)
        event = last_event(demo)
        assert (event.action, event.outcome) == ("request:refused", "denied")
        assert (event.target_type, event.target_id) == ("committee", "4242")
