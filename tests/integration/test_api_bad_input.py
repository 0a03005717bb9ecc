"""Bad input to every API route: a 400 (or 404) in the one error shape, and nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from access.models import ApiToken, Grant
from access.requests.models import AccessRequest
from audit.log.models import AuditEvent
from tests.conftest import DemoInstance, issue_token

GOOD_STATEMENT = "A research-use statement that is long enough to pass validation."


def counts(demo: DemoInstance) -> dict[str, int]:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return {model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (AuditEvent, AccessRequest, ApiToken, Grant)}


def assert_error_shape(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    return dict(body["error"])


@pytest.fixture
def client(demo: DemoInstance) -> FlaskClient:
    return demo.app.test_client()


@pytest.fixture
def researcher(demo: DemoInstance) -> dict[str, str]:
    return issue_token(demo, "researcher")


@pytest.fixture
def chair(demo: DemoInstance) -> dict[str, str]:
    return issue_token(demo, "dac-chair")


def draft_id(client: FlaskClient, headers: dict[str, str]) -> int:
    created = client.post("/api/v1/requests", headers=headers, json={
        "title": "A valid one", "research_use_statement": GOOD_STATEMENT, "dataset_ids": [1]})
    assert created.status_code == 201, created.get_json()
    return int(created.get_json()["id"])


BAD_REQUEST_BODIES: list[Any] = [
    {},
    {"title": "ok title", "research_use_statement": GOOD_STATEMENT},
    {"title": "", "research_use_statement": GOOD_STATEMENT, "dataset_ids": [1]},
    {"title": "ok title", "research_use_statement": "too short", "dataset_ids": [1]},
    {"title": "ok title", "research_use_statement": GOOD_STATEMENT, "dataset_ids": []},
    {"title": "ok title", "research_use_statement": GOOD_STATEMENT, "dataset_ids": "1"},
    {"title": "ok title", "research_use_statement": GOOD_STATEMENT, "dataset_ids": ["1"]},
    {"title": "ok title", "research_use_statement": GOOD_STATEMENT, "dataset_ids": [1, 1]},
    {"title": "ok title", "research_use_statement": GOOD_STATEMENT, "dataset_ids": [1.5]},
    {"title": "ok title", "research_use_statement": GOOD_STATEMENT, "dataset_ids": [999]},
    {"title": "ok title", "research_use_statement": GOOD_STATEMENT, "dataset_ids": [2]},
    {"title": 7, "research_use_statement": GOOD_STATEMENT, "dataset_ids": [1]},
    {"title": "ok title", "research_use_statement": GOOD_STATEMENT, "dataset_ids": [1],
     "state": "approved"},
    {"title": "ok title", "research_use_statement": GOOD_STATEMENT, "dataset_ids": [1],
     "purpose_disease_ids": ["diabetes"]},
    {"title": "ok title", "research_use_statement": GOOD_STATEMENT, "dataset_ids": [1],
     "purpose_disease_ids": ["MONDO:0005148", "MONDO:0005148"]},
    {"title": "ok title", "research_use_statement": GOOD_STATEMENT, "dataset_ids": [1],
     "purpose_health_medical": "yes"},
    {"title": "ok title", "research_use_statement": GOOD_STATEMENT, "dataset_ids": [1],
     "purpose_commercial_use": None},
    {"title": "ok title", "research_use_statement": GOOD_STATEMENT, "dataset_ids": [1],
     "purpose_methods_development": 1},
    {"title": "ok title", "research_use_statement": GOOD_STATEMENT, "dataset_ids": [1],
     "it_director_email": "not an address"},
    {"title": "ok title", "research_use_statement": GOOD_STATEMENT, "dataset_ids": [1],
     "collaborator_emails": ["nobody@nowhere.example"]},
    {"title": "ok title", "research_use_statement": GOOD_STATEMENT, "dataset_ids": [1],
     "collaborator_emails": "researcher2@demo.example"},
    [1, 2, 3],
    "a string",
    None,
]


@pytest.mark.parametrize("body", BAD_REQUEST_BODIES)
def test_filing_a_bad_request_is_400_and_writes_nothing(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str], body: Any
) -> None:
    before = counts(demo)
    response = client.post("/api/v1/requests", headers=researcher, json=body)
    error = assert_error_shape(response, 400)
    assert error["code"] == "invalid_input"
    assert counts(demo) == before


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"[", b"0" * 10])
def test_malformed_json_is_400(demo: DemoInstance, client: FlaskClient,
                               researcher: dict[str, str], raw: bytes) -> None:
    before = counts(demo)
    response = client.post("/api/v1/requests", headers=researcher, data=raw,
                           content_type="application/json")
    assert_error_shape(response, 400)
    assert counts(demo) == before


def test_oversized_body_is_413(demo: DemoInstance, client: FlaskClient,
                               researcher: dict[str, str]) -> None:
    before = counts(demo)
    response = client.post("/api/v1/requests", headers=researcher,
                           data=b"x" * (2 * 1024 * 1024), content_type="application/json")
    assert_error_shape(response, 413)
    assert counts(demo) == before


@pytest.mark.parametrize("action, body", [
    ("approve", {}),
    ("approve", {"reason": "fine", "days": "30"}),
    ("approve", {"reason": "fine", "days": 0}),
    ("approve", {"reason": "fine", "days": 100000}),
    ("approve", {"reason": "", "days": 30}),
    ("approve", {"reason": "fine", "days": 30, "extra": True}),
    ("approve", {"reason": "fine", "committee_id": "1"}),
    ("reject", {}),
    ("reject", {"reason": 5}),
    ("vote", {"vote": "maybe", "rationale": "x"}),
    ("vote", {"vote": "approve"}),
    ("return", {"questions": []}),
    ("return", {"questions": "Why?"}),
    ("decline", {}),
    ("revoke", {"reason": ""}),
    ("declare-conflict", {}),
    ("endorse", {"comment": 3}),
    ("answer", {"answers": {"first": "yes"}}),
    ("answer", {"answers": {}}),
    ("close", {"copies_destroyed": False}),
    ("close", {"copies_destroyed": "true"}),
    ("close", {"copies_destroyed": 1}),
    ("renew", {"progress_report": "short"}),
    ("revise", {}),
    ("revise", {"title": ""}),
    ("accept", {"now": True}),
])
def test_bad_decision_bodies_are_400_and_change_nothing(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str],
    chair: dict[str, str], action: str, body: Any,
) -> None:
    request_id = draft_id(client, researcher)
    submitted = client.post(f"/api/v1/requests/{request_id}/submit", headers=researcher)
    assert submitted.status_code == 200
    before = counts(demo)
    response = client.post(f"/api/v1/requests/{request_id}/{action}", headers=chair, json=body)
    assert_error_shape(response, 400)
    assert counts(demo) == before
    shown = client.get(f"/api/v1/requests/{request_id}", headers=researcher).get_json()
    assert shown["state"] == "submitted"


def test_submit_with_unexpected_fields_is_400(demo: DemoInstance, client: FlaskClient,
                                              researcher: dict[str, str]) -> None:
    request_id = draft_id(client, researcher)
    before = counts(demo)
    response = client.post(f"/api/v1/requests/{request_id}/submit", headers=researcher,
                           json={"state": "approved"})
    assert_error_shape(response, 400)
    assert counts(demo) == before


def test_unknown_action_and_unknown_ids_are_404(demo: DemoInstance, client: FlaskClient,
                                                researcher: dict[str, str]) -> None:
    request_id = draft_id(client, researcher)
    before = counts(demo)
    assert_error_shape(client.post(f"/api/v1/requests/{request_id}/teleport", headers=researcher,
                                   json={}), 404)
    assert_error_shape(client.get("/api/v1/requests/99999", headers=researcher), 404)
    assert_error_shape(client.get("/api/v1/requests/abc", headers=researcher), 404)
    assert_error_shape(client.get("/api/v1/datasets/99999"), 404)
    assert_error_shape(client.get("/api/v1/files/99999/url", headers=researcher), 404)
    assert_error_shape(client.get("/api/v1/no-such-route"), 404)
    assert_error_shape(client.delete("/api/v1/datasets"), 405)
    # Nothing changed; only the probe of a request that is not there is on record.
    assert counts(demo) == {**before, "AuditEvent": before["AuditEvent"] + 1}


def test_illegal_transition_is_409_naming_the_state(demo: DemoInstance, client: FlaskClient,
                                                    researcher: dict[str, str]) -> None:
    request_id = draft_id(client, researcher)
    submitted = client.post(f"/api/v1/requests/{request_id}/submit", headers=researcher)
    assert submitted.status_code == 200
    before = counts(demo)
    error = assert_error_shape(
        client.post(f"/api/v1/requests/{request_id}/submit", headers=researcher), 409)
    assert error["code"] == "illegal_transition"
    assert error["details"] == {"state": "submitted", "action": "submit"}
    assert "submitted" in error["message"]
    assert counts(demo) == before


@pytest.mark.parametrize("query", ["expires_in=abc", "expires_in=0", "expires_in=-5",
                                   "expires_in=3601", "expires_in=1e3"])
def test_bad_url_lifetime_is_400(demo: DemoInstance, client: FlaskClient,
                                 researcher: dict[str, str], query: str) -> None:
    before = counts(demo)
    assert_error_shape(client.get(f"/api/v1/files/7/url?{query}", headers=researcher), 400)
    assert counts(demo) == before

@pytest.mark.parametrize("body", [{"days": 0}, {"days": 91}, {"days": 366}, {"days": "7"},
                                  {"name": ""}, {"name": "x" * 101}, {"unknown": 1}, [],
                                  "token"])
def test_bad_token_requests_are_400(demo: DemoInstance, client: FlaskClient,
                                    researcher: dict[str, str], body: Any) -> None:
    before = counts(demo)
    assert_error_shape(client.post("/api/v1/tokens", headers=researcher, json=body), 400)
    assert counts(demo) == before


def test_bad_list_scope_is_400(client: FlaskClient, researcher: dict[str, str]) -> None:
    assert_error_shape(client.get("/api/v1/requests?scope=everyone", headers=researcher), 400)


def test_api_without_credentials_is_401_in_the_error_shape(client: FlaskClient) -> None:
    for response in (client.get("/api/v1/users/me"), client.get("/api/v1/requests"),
                     client.post("/api/v1/tokens", json={})):
        assert response.status_code in (400, 401)
    error = assert_error_shape(client.get("/api/v1/requests"), 401)
    assert error["code"] == "not_authenticated"


def test_unexpected_exception_gives_generic_500_without_details(demo: DemoInstance) -> None:
    def explode() -> str:
        raise RuntimeError("secret internal detail")

    demo.app.add_url_rule("/api/v1/test-explode", view_func=explode)
    response = demo.app.test_client().get("/api/v1/test-explode")
    error = assert_error_shape(response, 500)
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert error["code"] == "internal_error"


@pytest.mark.parametrize("path", [
    "/api/v1/requests/18446744073709551616", "/api/v1/datasets/99999999999999999999999",
    "/api/v1/files/9223372036854775808/url", "/api/v1/audit/events/18446744073709551616",
    "/datasets/123456789012345678901234567890",
])
def test_ids_beyond_any_column_are_404_not_500(
    client: FlaskClient, researcher: dict[str, str], path: str
) -> None:
    response = client.get(path, headers=researcher)
    assert response.status_code == 404, response.get_data(as_text=True)
