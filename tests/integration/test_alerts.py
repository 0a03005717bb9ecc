"""Alerts: raised once when a threshold is crossed within an hour, and themselves audited."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, select

from app import create_app
from audit.log.models import AuditEvent
from audit.review.models import AlertWindow
from tests.conftest import DemoInstance, issue_token
from tests.integration.audit_support import controlled_files, grant_access, issue_url, user_id


@pytest.fixture
def client(demo: DemoInstance) -> Iterator[FlaskClient]:
    """The demo instance with small thresholds: 3 downloads, or 2 refusals, an hour."""
    app = create_app(replace(demo.settings, alert_downloads_per_hour=3,
                             alert_refusals_per_hour=2), clock=demo.clock)
    yield app.test_client()
    app.extensions["custodian.engine"].dispose()


def alerts(demo: DemoInstance) -> list[AuditEvent]:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "audit:alert")
                                    .order_by(AuditEvent.seq)))


def test_downloads_above_the_hourly_threshold_raise_one_audited_alert(
    demo: DemoInstance, client: FlaskClient,
) -> None:
    grant_access(demo)
    _, files = controlled_files(demo)
    researcher = issue_token(demo, "researcher")
    for _ in range(3):
        issue_url(client, researcher, files[0])
        demo.clock.advance(timedelta(minutes=10))
    assert alerts(demo) == []

    issue_url(client, researcher, files[1])
    (alert,) = alerts(demo)
    with demo.app.extensions["custodian.session_factory"]() as session:
        trigger = session.get(AuditEvent, alert.details["trigger_seq"])
    assert trigger is not None and trigger.action == "url:issue"
    assert alert.seq == trigger.seq + 1  # same transaction, right after what triggered it
    assert (alert.target_type, alert.target_id) == ("user", str(user_id(demo, "researcher")))
    assert alert.details == {"kind": "downloads_per_hour", "count": 4, "threshold": 3,
                             "window_seconds": 3600, "trigger_seq": trigger.seq}
    assert alert.actor_user_id is None and alert.request_id == trigger.request_id

    for _ in range(5):
        issue_url(client, researcher, files[0])
    assert len(alerts(demo)) == 1  # no storm: once per user per hour


def test_a_new_alert_needs_a_new_hour(demo: DemoInstance, client: FlaskClient) -> None:
    grant_access(demo)
    _, files = controlled_files(demo)
    researcher = issue_token(demo, "researcher")
    for _ in range(4):
        issue_url(client, researcher, files[0])
    demo.clock.advance(timedelta(minutes=30))
    for _ in range(4):
        issue_url(client, researcher, files[0])
    assert len(alerts(demo)) == 1
    demo.clock.advance(timedelta(minutes=31))
    issue_url(client, researcher, files[0])
    assert len(alerts(demo)) == 2


def test_slow_downloads_never_alert(demo: DemoInstance, client: FlaskClient) -> None:
    grant_access(demo)
    _, files = controlled_files(demo)
    for _ in range(8):
        issue_url(client, issue_token(demo, "researcher"), files[0])
        demo.clock.advance(timedelta(minutes=21))
    assert alerts(demo) == []


def test_repeated_refusals_alert_once_for_the_user_and_once_for_the_address(
    demo: DemoInstance, client: FlaskClient,
) -> None:
    _, files = controlled_files(demo)
    stranger = issue_token(demo, "researcher2")
    for _ in range(2):
        assert client.get(f"/api/v1/files/{files[0]}/url", headers=stranger).status_code == 403
    assert alerts(demo) == []
    for _ in range(4):
        assert client.get(f"/api/v1/files/{files[0]}/url", headers=stranger).status_code == 403
    raised = alerts(demo)
    assert {(a.target_type, a.target_id) for a in raised} == {
        ("user", str(user_id(demo, "researcher2"))), ("ip", "127.0.0.1")}
    assert {a.details["kind"] for a in raised} == {"refusals_per_hour"}
    assert all(a.outcome == "success" for a in raised)


def test_anonymous_refusals_alert_by_address(demo: DemoInstance, client: FlaskClient) -> None:
    for _ in range(3):
        response = client.get("/api/v1/users/me", headers={"Authorization": "Bearer cus_forged"},
                              environ_base={"REMOTE_ADDR": "198.51.100.7"})
        assert response.status_code == 401
    (alert,) = alerts(demo)
    assert (alert.target_type, alert.target_id) == ("ip", "198.51.100.7")


def test_auditors_see_alerts_in_the_api(demo: DemoInstance, client: FlaskClient) -> None:
    _, files = controlled_files(demo)
    stranger = issue_token(demo, "researcher2")
    for _ in range(3):
        client.get(f"/api/v1/files/{files[0]}/url", headers=stranger)
    body = client.get("/api/v1/audit/alerts", headers=issue_token(demo, "auditor")).get_json()
    kinds = {(a["kind"], a["subject_type"]) for a in body["alerts"]}
    assert kinds == {("refusals_per_hour", "user"), ("refusals_per_hour", "ip")}
    assert body["next"] is None
    assert all(a["count"] == 3 and a["threshold"] == 2 and a["trigger_seq"] < a["seq"]
               for a in body["alerts"])


def test_the_settings_thresholds_apply_by_default(demo: DemoInstance) -> None:
    """Without the small test thresholds: CUSTODIAN_ALERT_REFUSALS_PER_HOUR, default 10."""
    client = demo.app.test_client()
    stranger = issue_token(demo, "researcher2")
    for _ in range(demo.settings.alert_refusals_per_hour):
        assert client.get("/api/v1/files/1/url", headers=stranger).status_code == 403
    assert alerts(demo) == []
    client.get("/api/v1/files/1/url", headers=stranger)
    assert {a.details["threshold"] for a in alerts(demo)} == {10}


def test_an_event_costs_the_same_whatever_its_subjects_history(
    demo: DemoInstance, client: FlaskClient,
) -> None:
    """O(1) alerts: once a subject's window exists, integrating its event reads the window,
    never the subject's past events; and the window holds threshold + 1 times, however many
    downloads there were."""
    grant_access(demo)
    _, files = controlled_files(demo)
    researcher = issue_token(demo, "researcher")
    engine: Engine = client.application.extensions["custodian.engine"]

    def chain_reads_of_one_issuance() -> list[str]:
        statements: list[str] = []

        def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if "FROM audit_events" in statement:
                statements.append(" ".join(statement.split()))

        event.listen(engine, "before_cursor_execute", seen)
        try:
            issue_url(client, researcher, files[0])
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        return statements

    issue_url(client, researcher, files[0])  # the window is built here, from the chain
    few = chain_reads_of_one_issuance()
    for _ in range(40):
        issue_url(client, researcher, files[0])
    many = chain_reads_of_one_issuance()
    assert few == many
    # The chain's tip is all a batch reads of audit_events.
    assert len(many) == 1 and "ORDER BY audit_events.seq DESC" in many[0], many
    with demo.app.extensions["custodian.session_factory"]() as session:
        window = session.get(AlertWindow, ("downloads_per_hour", "user",
                                           str(user_id(demo, "researcher"))))
    assert window is not None and len(window.recent) == window.capacity == 4
