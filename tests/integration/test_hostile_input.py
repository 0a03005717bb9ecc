"""Input built to break parsers: each gets a 4xx in the error shape, never a 500, and
changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import DemoInstance, issue_token
from tests.integration.test_api_bad_input import assert_error_shape, counts

STATEMENT = "A research-use statement that is long enough to pass validation."
DEEP = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


@pytest.fixture
def client(demo: DemoInstance) -> FlaskClient:
    return demo.app.test_client()


def _request(**changes: Any) -> dict[str, Any]:
    return {"title": "A title", "research_use_statement": STATEMENT, "dataset_ids": [1],
            **changes}


@pytest.mark.parametrize("body", [
    _request(dataset_ids=[2**64]),
    _request(dataset_ids=[2**63]),
    _request(dataset_ids=[-(2**70)]),
    _request(dataset_ids=[1, 1, "x"]),
    _request(dataset_ids=[2**64, 2**64]),
    _request(purpose_disease_ids=["MONDO:1", "MONDO:1", 5]),
    _request(collaborator_emails=["a@b.example", "a@b.example", 7]),
], ids=["int64+1", "int63", "huge-negative", "dup-and-invalid", "dup-huge",
        "dup-and-invalid-disease", "dup-and-invalid-email"])
def test_odd_lists_in_a_request_are_400(demo: DemoInstance, client: FlaskClient,
                                        body: dict[str, Any]) -> None:
    researcher = issue_token(demo, "researcher")
    before = counts(demo)
    response = client.post("/api/v1/requests", headers=researcher, json=body)
    assert_error_shape(response, 400)
    assert counts(demo) == before


@pytest.mark.parametrize("raw", [
    '{"title": "\\ud800 lone", "research_use_statement": "' + STATEMENT + '", '
    '"dataset_ids": [1]}',
    '{"title": "A title", "research_use_statement": "' + STATEMENT + ' \\udfff", '
    '"dataset_ids": [1]}',
    DEEP, DEEP_OBJECT,
    '{"title": ' + DEEP + "}",
], ids=["surrogate-title", "surrogate-statement", "deep-list", "deep-object", "deep-field"])
def test_surrogates_and_deep_nesting_are_400(demo: DemoInstance, client: FlaskClient,
                                              raw: str) -> None:
    researcher = issue_token(demo, "researcher")
    before = counts(demo)
    response = client.post("/api/v1/requests", headers=researcher, data=raw,
                           content_type="application/json")
    assert_error_shape(response, 400)
    assert counts(demo) == before


@pytest.mark.parametrize("raw", [DEEP, DEEP_OBJECT, '{"bulk_object_ids": ' + DEEP + "}",
                                 '{"bulk_object_ids": ["\\ud800"]}'])
def test_drs_deep_or_surrogate_bodies_are_400(client: FlaskClient, raw: str) -> None:
    response = client.post("/ga4gh/drs/v1/objects", data=raw, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert set(response.get_json()) == {"msg", "status_code"}


@pytest.mark.parametrize("query", [
    "submitted_from=0001-01-01", "submitted_to=9999-12-31", "submitted_from=9999-12-31",
    "submitted_to=0001-01-01", "dataset_id=99999999999999999999999",
])
def test_calendar_edges_in_queue_filters_are_answered(demo: DemoInstance, client: FlaskClient,
                                                      query: str) -> None:
    chair = issue_token(demo, "dac-chair")
    response = client.get(f"/api/v1/committees/1/queue?{query}", headers=chair)
    assert response.status_code in (200, 400), response.get_data(as_text=True)


@pytest.mark.parametrize("query", [
    "since=0001-01-01", "until=9999-12-31", "since=0001-01-01T00:00:00-23:59",
    "until=9999-12-31T23:59:59%2B00:00", "until=9999-12-31T23:59:59-23:59",
    "since=0001-01-01T00:00:00%2B23:59",
])
def test_calendar_edges_in_audit_search_are_answered(demo: DemoInstance, client: FlaskClient,
                                                     query: str) -> None:
    auditor = issue_token(demo, "auditor")
    response = client.get(f"/api/v1/audit/events?{query}", headers=auditor)
    assert response.status_code in (200, 400), response.get_data(as_text=True)
