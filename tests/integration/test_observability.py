"""What operators see: /metrics behind its token, JSON log lines, the audit-failure alarm."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event, select

from app import create_app
from datasets.catalogue.models import DataFile, Tier
from tests.conftest import DemoInstance, issue_token

METRICS_TOKEN = "m" * 40
SCRAPER = {"Authorization": f"Bearer {METRICS_TOKEN}"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def metered(demo: DemoInstance) -> Iterator[Flask]:
    """The demo instance with /metrics on, behind a scraper token, logging JSON."""
    settings = replace(
        demo.settings, metrics_enabled=True, metrics_token=METRICS_TOKEN, log_format="json"
    )
    app = create_app(settings, clock=demo.clock)
    yield app
    app.extensions["custodian.engine"].dispose()


def scrape(app: Flask) -> Samples:
    response = app.test_client().get("/metrics", headers=SCRAPER)
    assert response.status_code == 200, response.get_data(as_text=True)
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def file_id(app: Flask, tier: Tier) -> int:
    with app.extensions["custodian.session_factory"]() as session:
        found: int = session.scalars(select(DataFile.id).where(DataFile.tier == tier)).first()
        return found


def refuse_audit_inserts(app: Flask, refused: bool) -> None:
    """While refused, every audit append fails at the database call, as a broken table would."""
    engine = app.extensions["custodian.engine"]
    if refused:
        event.listen(engine, "before_cursor_execute", _broken_audit_table)
    else:
        event.remove(engine, "before_cursor_execute", _broken_audit_table)


def _broken_audit_table(
    _connection: object, _cursor: object, statement: str, *_args: object
) -> None:
    if statement.startswith("INSERT INTO audit_queue"):
        raise RuntimeError("audit_queue refuses writes")


def json_lines(stderr: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_metrics_are_off_unless_configured(demo: DemoInstance) -> None:
    response = demo.app.test_client().get("/metrics", headers=SCRAPER)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_metrics_need_the_scraper_token(metered: Flask) -> None:
    client = metered.test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.get_json()["error"]["code"] == "not_authenticated"
    answered = client.get("/metrics", headers=SCRAPER)
    assert answered.status_code == 200
    assert "custodian_http_requests_total" in answered.get_data(as_text=True)


def test_public_metrics_need_no_token(demo: DemoInstance) -> None:
    app = create_app(
        replace(demo.settings, metrics_enabled=True, metrics_public=True), clock=demo.clock
    )
    try:
        assert app.test_client().get("/metrics").status_code == 200
    finally:
        app.extensions["custodian.engine"].dispose()


def test_requests_are_counted_by_url_rule_not_by_raw_path(metered: Flask) -> None:
    client = metered.test_client()
    before = scrape(metered)
    for dataset_id in (1, 2):
        assert client.get(f"/api/v1/datasets/{dataset_id}").status_code == 200
    assert client.get("/no/such/page/12345").status_code == 404
    assert client.open("/api/v1/datasets", method="BREW").status_code == 405
    after = scrape(metered)

    rule = "/api/v1/datasets/<int:dataset_id>"
    counted = "custodian_http_requests_total"
    assert value(after, counted, method="GET", endpoint=rule, status="200") == (
        value(before, counted, method="GET", endpoint=rule, status="200") + 2
    )
    timed = "custodian_http_request_duration_seconds_count"
    assert value(after, timed, endpoint=rule) == value(before, timed, endpoint=rule) + 2
    assert value(after, counted, method="GET", endpoint="unmatched", status="404") >= 1
    assert value(after, counted, method="OTHER", endpoint="unmatched", status="405") >= 1
    endpoints = {dict(labels).get("endpoint", "") for _, labels in after}
    assert not any("12345" in endpoint or "/datasets/1" in endpoint for endpoint in endpoints)


def test_signed_urls_issued_and_refused_are_counted(metered: Flask, demo: DemoInstance) -> None:
    client = metered.test_client()
    researcher = issue_token(demo, "researcher")
    before = scrape(metered)

    issued = client.get(f"/api/v1/files/{file_id(metered, Tier.OPEN)}/url")
    assert issued.status_code == 200
    controlled = file_id(metered, Tier.CONTROLLED)
    assert client.get(f"/api/v1/files/{controlled}/url", headers=researcher).status_code == 403
    assert client.get(f"/api/v1/files/{controlled}/url").status_code == 401  # anonymous
    tampered = issued.get_json()["url"].replace("signature=", "signature=0")
    assert client.get(tampered).status_code == 403
    after = scrape(metered)

    issued_total = "custodian_signed_urls_issued_total"
    assert value(after, issued_total) == value(before, issued_total) + 1
    refusals = "custodian_signed_url_refusals_total"
    for stage, refused in (("issue", 2), ("download", 1)):
        assert value(after, refusals, stage=stage) == value(before, refusals, stage=stage) + refused


def test_failed_audit_write_fails_the_action_counts_and_shows_on_readyz(
    metered: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    client = metered.test_client()
    open_file = file_id(metered, Tier.OPEN)
    failures = "custodian_audit_write_failures_total"
    before = value(scrape(metered), failures)
    refuse_audit_inserts(metered, True)

    failed = client.get(f"/api/v1/files/{open_file}/url")
    assert failed.status_code == 500
    assert failed.get_json()["error"]["code"] == "internal_error"
    assert "url" not in failed.get_data(as_text=True)
    assert value(scrape(metered), failures) == before + 1
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["audit"] == "failing"
    logged = [
        line
        for line in json_lines(capsys.readouterr().err)
        if line["logger"] == "core.web.error_handling"
    ]
    assert logged[-1]["request_id"] == failed.headers["X-Request-ID"]
    assert "audit_queue refuses writes" in logged[-1]["exception"]

    refuse_audit_inserts(metered, False)
    assert client.get(f"/api/v1/files/{open_file}/url").status_code == 200
    recovered = client.get("/readyz")
    assert recovered.status_code == 200
    assert recovered.get_json()["checks"]["audit"] == "ok"


def test_failed_refusal_record_fails_the_request_and_counts(
    metered: Flask, demo: DemoInstance
) -> None:
    client = metered.test_client()
    researcher = issue_token(demo, "researcher")
    controlled = f"/api/v1/files/{file_id(metered, Tier.CONTROLLED)}/url"
    failures = "custodian_audit_write_failures_total"
    before = value(scrape(metered), failures)
    refuse_audit_inserts(metered, True)

    failed = client.get(controlled, headers=researcher)
    assert failed.status_code == 500  # not the 403: an unrecorded refusal is no answer
    assert value(scrape(metered), failures) == before + 1
    assert client.get("/readyz").get_json()["checks"]["audit"] == "failing"

    refuse_audit_inserts(metered, False)
    assert client.get(controlled, headers=researcher).status_code == 403
    assert client.get("/readyz").get_json()["checks"]["audit"] == "ok"


def test_access_log_line_is_json_without_the_signature(
    metered: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    request_line = "GET /storage/x?expires=1&user=2&signature=c0ffee HTTP/1.1"
    logging.getLogger("werkzeug").info(
        '%s - - [%s] "%s" %s %s', "127.0.0.1", "x", request_line, "200", "-"
    )
    stderr = capsys.readouterr().err
    assert "c0ffee" not in stderr
    line = json_lines(stderr)[-1]
    assert line["logger"] == "werkzeug" and line["level"] == "INFO"
    assert '"GET /storage/x?[redacted] HTTP/1.1" 200' in line["message"]


def test_http_client_libraries_stay_quiet_at_the_default_level(metered: Flask) -> None:
    for name in ("authlib.integrations.base_client.sync_app", "urllib3.connectionpool"):
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG)
    assert logging.getLogger("core.web.error_handling").isEnabledFor(logging.INFO)
