"""Searching the audit log: every filter, keyset pages, one event, bad input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from audit.log.chain import format_timestamp
from audit.log.models import AuditEvent
from tests.conftest import DemoInstance, issue_token
from tests.integration.audit_support import (
    all_events,
    controlled_files,
    event_count,
    fetch,
    grant_access,
    issue_url,
    seqs,
    user_id,
)
from tests.integration.test_api_bad_input import assert_error_shape


@pytest.fixture
def client(demo: DemoInstance) -> FlaskClient:
    return demo.app.test_client()


@pytest.fixture
def auditor(demo: DemoInstance) -> dict[str, str]:
    return issue_token(demo, "auditor")


def search_all(client: FlaskClient, headers: dict[str, str], query: dict[str, Any],
               limit: int = 500) -> list[int]:
    """Every matching seq, following ``next`` to the end."""
    found: list[int] = []
    params = {**query, "limit": limit}
    while True:
        response = client.get("/api/v1/audit/events", headers=headers, query_string=params)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        found += seqs(body)
        if body["next"] is None:
            return found
        params["before"] = body["next"]


def about_dataset(event: AuditEvent, dataset_id: int) -> bool:
    if event.target_type == "dataset":
        return event.target_id == str(dataset_id)
    return bool(event.details.get("dataset_id") == dataset_id)


def make_history(demo: DemoInstance, client: FlaskClient) -> dict[str, Any]:
    """Downloads, refusals and requests spread over three days."""
    dataset_id, files = controlled_files(demo)
    day_one = demo.clock.now()
    grant_access(demo)
    fetch(client, issue_url(client, issue_token(demo, "researcher"), files[0]))
    demo.clock.advance(timedelta(days=1))
    day_two = demo.clock.now()
    issue_url(client, issue_token(demo, "researcher"), files[1])
    stranger = issue_token(demo, "researcher2")  # tokens live a day: one per day
    assert client.get(f"/api/v1/files/{files[0]}/url", headers=stranger).status_code == 403
    demo.clock.advance(timedelta(days=1))
    day_three = demo.clock.now()
    fetch(client, issue_url(client, issue_token(demo, "researcher"), files[0]))
    return {"dataset": dataset_id, "files": files, "days": (day_one, day_two, day_three)}


def test_every_filter_returns_exactly_the_matching_events_newest_first(
    demo: DemoInstance, client: FlaskClient,
) -> None:
    history = make_history(demo, client)
    auditor = issue_token(demo, "auditor")
    researcher = user_id(demo, "researcher")
    dataset_id, files = history["dataset"], history["files"]
    _, day_two, day_three = history["days"]
    cases: list[tuple[dict[str, Any], Callable[[AuditEvent], bool]]] = [
        ({}, lambda e: True),
        ({"user": researcher}, lambda e: e.actor_user_id == researcher),
        ({"subject": "researcher2"}, lambda e: e.actor_subject == "researcher2"),
        ({"dataset": dataset_id}, lambda e: about_dataset(e, dataset_id)),
        ({"file": files[0]}, lambda e: e.target_type == "file" and e.target_id == str(files[0])),
        ({"action": "url:issue"}, lambda e: e.action == "url:issue"),
        ({"action": "request:"}, lambda e: e.action.startswith("request:")),
        ({"action": "admin:"}, lambda e: e.action.startswith("admin:")),
        ({"outcome": "denied"}, lambda e: e.outcome == "denied"),
        ({"since": format_timestamp(day_two), "until": format_timestamp(day_three)},
         lambda e: day_two <= e.occurred_at < day_three),
        ({"user": researcher, "action": "file:", "since": day_two.date().isoformat()},
         lambda e: e.actor_user_id == researcher and e.action.startswith("file:")
         and e.occurred_at >= day_two.replace(hour=0, minute=0, second=0, microsecond=0)),
        ({"after": 5, "before": 12}, lambda e: 5 < e.seq < 12),
    ]
    events = all_events(demo)
    for query, matches in cases:
        expected = sorted((e.seq for e in events if matches(e)), reverse=True)
        assert expected or query == {"outcome": "denied"}, query
        assert search_all(client, auditor, query) == expected, query
    assert search_all(client, auditor, {"dataset": dataset_id, "outcome": "denied"})


def test_events_carry_their_dataset_and_file_as_search_keys(
    demo: DemoInstance, client: FlaskClient,
) -> None:
    history = make_history(demo, client)
    auditor = issue_token(demo, "auditor")
    body = client.get("/api/v1/audit/events", headers=auditor,
                      query_string={"action": "file:serve", "limit": 1}).get_json()
    (served,) = body["events"]
    assert served["dataset_id"] == history["dataset"]
    assert served["file_id"] == history["files"][0]
    assert served["details"]["dataset_id"] == history["dataset"]
    assert body["next"] is not None


def test_pages_have_no_duplicates_or_gaps_while_events_are_appended(
    demo: DemoInstance, client: FlaskClient, auditor: dict[str, str],
) -> None:
    grant_access(demo)
    _, files = controlled_files(demo)
    researcher = issue_token(demo, "researcher")
    for _ in range(10):
        issue_url(client, researcher, files[0])
    before_paging = search_all(client, auditor, {"action": "url:issue"})
    assert len(before_paging) == 10

    seen: list[int] = []
    params: dict[str, Any] = {"action": "url:issue", "limit": 3}
    while True:
        body = client.get("/api/v1/audit/events", headers=auditor,
                          query_string=params).get_json()
        seen += seqs(body)
        issue_url(client, researcher, files[1])  # a newer match lands between pages
        if body["next"] is None:
            break
        params["before"] = body["next"]
    assert seen == before_paging
    assert len(search_all(client, auditor, {"action": "url:issue"})) == 10 + 4


def test_one_event_by_seq_with_every_recorded_field(
    demo: DemoInstance, client: FlaskClient, auditor: dict[str, str],
) -> None:
    first = client.get("/api/v1/audit/events/1", headers=auditor)
    assert first.status_code == 200
    body = first.get_json()
    assert body["seq"] == 1 and body["prev_hash"] == "0" * 64
    assert body["occurred_at"].endswith("Z") and len(body["occurred_at"]) == 27
    assert {"action", "outcome", "actor_user_id", "actor_issuer", "actor_subject",
            "actor_token_id", "ip", "user_agent", "request_id", "target_type", "target_id",
            "details", "hash", "dataset_id", "file_id"} <= set(body)
    missing = client.get("/api/v1/audit/events/999999", headers=auditor)
    assert assert_error_shape(missing, 404)["code"] == "not_found"


@pytest.mark.parametrize("query, field", [
    ("user=abc", "user"),
    ("user=0", "user"),
    ("dataset=-1", "dataset"),
    ("file=1.5", "file"),
    ("action=URL:ISSUE", "action"),
    ("action=url", "action"),
    ("action=" + "a:" + "b" * 70, "action"),
    ("outcome=maybe", "outcome"),
    ("since=yesterday", "since"),
    ("until=2026-13-01", "until"),
    ("since=2026-02-01&until=2026-01-01", "until"),
    ("limit=0", "limit"),
    ("limit=501", "limit"),
    ("limit=ten", "limit"),
    ("before=0", "before"),
    ("after=-1", "after"),
    ("subject=" + "s" * 256, "subject"),
    ("colour=blue", "colour"),
])
def test_bad_filters_are_400_naming_the_field_and_write_nothing(
    demo: DemoInstance, client: FlaskClient, auditor: dict[str, str], query: str, field: str,
) -> None:
    before = event_count(demo)
    for path in ("/api/v1/audit/events", "/api/v1/audit/events/export"):
        error = assert_error_shape(client.get(f"{path}?{query}", headers=auditor), 400)
        assert error["code"] == "invalid_input"
        assert field in error["details"], error
    assert event_count(demo) == before


def test_empty_filters_mean_any(demo: DemoInstance, client: FlaskClient,
                                auditor: dict[str, str]) -> None:
    everything = client.get("/api/v1/audit/events", headers=auditor).get_json()
    blank = client.get("/api/v1/audit/events?user=&action=&since=", headers=auditor).get_json()
    assert seqs(blank) == seqs(everything)
