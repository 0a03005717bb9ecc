"""Access reports, the downloads chart, and exports of a search (each one audited)."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from audit.log.models import AuditEvent
from tests.conftest import DemoInstance, issue_token
from tests.integration.audit_support import (
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


@dataclass(frozen=True)
class History:
    dataset: int
    files: list[int]
    day_one: datetime


def downloads_over_two_days(demo: DemoInstance, client: FlaskClient) -> History:
    """researcher: file A twice (one served) on day one, file B on day two; researcher2
    is refused; then, a week later, researcher downloads A once more."""
    dataset_id, files = controlled_files(demo)
    grant_access(demo)
    day_one = demo.clock.now()
    researcher = issue_token(demo, "researcher")
    fetch(client, issue_url(client, researcher, files[0]))
    issue_url(client, researcher, files[0])
    assert client.get(f"/api/v1/files/{files[0]}/url",
                      headers=issue_token(demo, "researcher2")).status_code == 403
    demo.clock.advance(timedelta(days=1))
    issue_url(client, issue_token(demo, "researcher"), files[1])
    demo.clock.advance(timedelta(days=7))
    issue_url(client, issue_token(demo, "researcher"), files[0])
    return History(dataset_id, files, day_one)


def test_dataset_report_says_who_received_which_files_between_two_dates(
    demo: DemoInstance, client: FlaskClient,
) -> None:
    setup = downloads_over_two_days(demo, client)
    day_one, files = setup.day_one, setup.files
    auditor = issue_token(demo, "auditor")
    since, until = day_one.date().isoformat(), (day_one + timedelta(days=1)).date().isoformat()
    response = client.get(f"/api/v1/audit/reports/dataset/{setup.dataset}",
                          headers=auditor, query_string={"since": since, "until": until})
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert report["truncated"] is False
    rows = {(row["subject"], row["file_id"]): row for row in report["rows"]}
    assert set(rows) == {("researcher", files[0]), ("researcher", files[1])}
    assert (rows["researcher", files[0]]["urls_issued"],
            rows["researcher", files[0]]["files_served"]) == (2, 1)
    assert (rows["researcher", files[1]]["urls_issued"],
            rows["researcher", files[1]]["files_served"]) == (1, 0)
    assert rows["researcher", files[0]]["user_id"] == user_id(demo, "researcher")
    assert report["since"].startswith(since) and report["until"].endswith("T00:00:00.000000Z")

    everything = client.get(f"/api/v1/audit/reports/dataset/{setup.dataset}",
                            headers=auditor, query_string={"since": since}).get_json()
    assert {row["file_id"]: row["urls_issued"] for row in everything["rows"]} == \
        {files[0]: 3, files[1]: 1}


def test_user_report_lists_the_files_one_user_received(
    demo: DemoInstance, client: FlaskClient,
) -> None:
    setup = downloads_over_two_days(demo, client)
    auditor = issue_token(demo, "auditor")
    researcher = user_id(demo, "researcher")
    report = client.get(f"/api/v1/audit/reports/user/{researcher}", headers=auditor).get_json()
    assert sorted((row["file_id"], row["urls_issued"]) for row in report["rows"]) == \
        sorted([(setup.files[0], 3), (setup.files[1], 1)])
    refused = client.get(f"/api/v1/audit/reports/user/{user_id(demo, 'researcher2')}",
                         headers=auditor).get_json()
    assert refused["rows"] == []


def test_pages_want_a_browser_session_not_a_bearer_token(demo: DemoInstance,
                                                         client: FlaskClient) -> None:
    page = client.get("/audit/reports/dataset/1", headers=issue_token(demo, "auditor"))
    assert page.status_code == 302 and page.headers["Location"].startswith("/auth/login")


def test_downloads_per_day_counts_issues_and_serves_with_empty_days_as_zero(
    demo: DemoInstance, client: FlaskClient,
) -> None:
    day_one = downloads_over_two_days(demo, client).day_one
    auditor = issue_token(demo, "auditor")
    query = {"since": day_one.date().isoformat(),
             "until": (day_one + timedelta(days=8)).date().isoformat()}
    body = client.get("/api/v1/audit/reports/downloads", headers=auditor,
                      query_string=query).get_json()
    days = {d["day"]: (d["urls_issued"], d["files_served"]) for d in body["days"]}
    assert len(days) == 9
    first = day_one.date()
    assert days[first.isoformat()] == (2, 1)
    assert days[(first + timedelta(days=1)).isoformat()] == (1, 0)
    assert days[(first + timedelta(days=4)).isoformat()] == (0, 0)
    assert days[(first + timedelta(days=8)).isoformat()] == (1, 0)
    other = client.get("/api/v1/audit/reports/downloads", headers=auditor,
                       query_string={**query, "dataset": 999}).get_json()
    assert all(d["urls_issued"] == d["files_served"] == 0 for d in other["days"])


@pytest.mark.parametrize("query", ["since=2020-01-01&until=2022-01-01", "since=2999-01-01",
                                   "dataset=x", "since=2026-01-05&until=2026-01-01"])
def test_bad_chart_periods_are_400(demo: DemoInstance, client: FlaskClient, query: str) -> None:
    auditor = issue_token(demo, "auditor")
    before = event_count(demo)
    assert_error_shape(client.get(f"/api/v1/audit/reports/downloads?{query}",
                                  headers=auditor), 400)
    assert event_count(demo) == before


def test_exports_contain_exactly_the_filtered_events_and_are_audited(
    demo: DemoInstance, client: FlaskClient,
) -> None:
    setup = downloads_over_two_days(demo, client)
    auditor = issue_token(demo, "auditor")
    query = {"dataset": setup.dataset, "action": "url:", "limit": 500}
    expected = sorted(seqs(client.get("/api/v1/audit/events", headers=auditor,
                                      query_string=query).get_json()))
    assert len(expected) == 5  # four issued, one refused
    filters = {"dataset": setup.dataset, "action": "url:"}

    as_jsonl = client.get("/api/v1/audit/events/export", headers=auditor,
                          query_string={**filters, "format": "jsonl"})
    assert as_jsonl.status_code == 200
    assert as_jsonl.mimetype == "application/x-ndjson"
    assert re.fullmatch(r'attachment; filename="audit-events-before-\d+\.jsonl"',
                        as_jsonl.headers["Content-Disposition"])
    records = [json.loads(line) for line in as_jsonl.get_data(as_text=True).splitlines()]
    assert [r["seq"] for r in records] == expected
    shown = client.get(f"/api/v1/audit/events/{expected[0]}", headers=auditor).get_json()
    assert records[0] == shown

    as_csv = client.get("/api/v1/audit/events/export", headers=auditor,
                        query_string={**filters, "format": "csv"})
    assert as_csv.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
    assert [int(r["seq"]) for r in rows] == expected
    assert json.loads(rows[0]["details"]) == records[0]["details"]

    with demo.app.extensions["custodian.session_factory"]() as session:
        exports = list(session.scalars(select(AuditEvent).where(
            AuditEvent.action == "audit:export").order_by(AuditEvent.seq)))
    assert [e.details["format"] for e in exports] == ["jsonl", "csv"]
    assert exports[0].details["filters"] == filters
    assert exports[0].actor_subject == "auditor" and exports[0].actor_token_id is not None
    assert as_jsonl.headers["Content-Disposition"].endswith(f'before-{exports[0].seq}.jsonl"')


def test_an_export_holds_the_events_before_it_including_earlier_exports(
    demo: DemoInstance, client: FlaskClient,
) -> None:
    auditor = issue_token(demo, "auditor")
    first = client.get("/api/v1/audit/events/export?action=audit:", headers=auditor)
    assert first.get_data(as_text=True) == ""
    second = client.get("/api/v1/audit/events/export?action=audit:", headers=auditor)
    (record,) = [json.loads(line) for line in second.get_data(as_text=True).splitlines()]
    assert record["action"] == "audit:export"
    empty_csv = client.get("/api/v1/audit/events/export?format=csv&action=none:",
                           headers=auditor).get_data(as_text=True)
    assert empty_csv.splitlines()[0].startswith("seq,occurred_at,action,outcome")
    assert len(empty_csv.splitlines()) == 1


def test_csv_cells_that_a_spreadsheet_would_run_are_defused(
    demo: DemoInstance, client: FlaskClient,
) -> None:
    hostile = {**issue_token(demo, "researcher2"), "User-Agent": "=HYPERLINK(\"http://x\")"}
    client.get("/api/v1/files/1/url", headers=hostile)
    auditor = issue_token(demo, "auditor")
    exported = client.get("/api/v1/audit/events/export?format=csv&action=url:refuse",
                          headers=auditor).get_data(as_text=True)
    (row,) = csv.DictReader(io.StringIO(exported))
    assert row["user_agent"] == "'=HYPERLINK(\"http://x\")"
    jsonl = client.get("/api/v1/audit/events/export?action=url:refuse",
                       headers=auditor).get_data(as_text=True)
    assert json.loads(jsonl)["user_agent"] == "=HYPERLINK(\"http://x\")"


def test_bad_export_format_is_400_and_writes_nothing(demo: DemoInstance,
                                                     client: FlaskClient) -> None:
    auditor = issue_token(demo, "auditor")
    before = event_count(demo)
    error = assert_error_shape(client.get("/api/v1/audit/events/export?format=xlsx",
                                          headers=auditor), 400)
    assert "format" in error["details"]
    assert event_count(demo) == before
