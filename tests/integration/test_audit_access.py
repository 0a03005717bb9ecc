"""Only auditors and admins read the audit log, and nobody changes it through the app."""

from __future__ import annotations

import re

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import select

from audit.log.models import AuditEvent
from tests.conftest import DemoInstance, issue_token, sign_in
from tests.integration.audit_support import event_count
from tests.integration.test_api_bad_input import assert_error_shape

API_ROUTES = [
    "/api/v1/audit/events",
    "/api/v1/audit/events/1",
    "/api/v1/audit/events/export?format=csv",
    "/api/v1/audit/reports/dataset/1",
    "/api/v1/audit/reports/user/1",
    "/api/v1/audit/reports/downloads",
    "/api/v1/audit/alerts",
]
PAGE_ROUTES = [
    "/audit/verification",
    "/audit",
    "/audit/events/1",
    "/audit/reports",
    "/audit/reports?kind=dataset&id=1",
    "/audit/reports/dataset/1",
    "/audit/reports/user/1",
    "/audit/downloads",
    "/audit/alerts",
]
AUDIT_BLUEPRINTS = ("audit.", "audit_search_api.")

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)")


@pytest.fixture
def client(demo: DemoInstance) -> FlaskClient:
    return demo.app.test_client()


def test_anonymous_api_callers_get_401_and_nothing_is_written(
    demo: DemoInstance, client: FlaskClient,
) -> None:
    before = event_count(demo)
    for route in API_ROUTES:
        error = assert_error_shape(client.get(route), 401)
        assert error["code"] == "not_authenticated", route
    assert event_count(demo) == before


@pytest.mark.parametrize("persona", ["researcher", "dac-chair", "signing-official"])
def test_other_roles_get_403_on_every_api_route_and_the_attempt_is_recorded(
    demo: DemoInstance, client: FlaskClient, persona: str,
) -> None:
    headers = issue_token(demo, persona)
    before = event_count(demo)
    for route in API_ROUTES:
        error = assert_error_shape(client.get(route, headers=headers), 403)
        assert error["code"] == "forbidden", route
    with demo.app.extensions["custodian.session_factory"]() as session:
        refused = list(session.scalars(select(AuditEvent).where(AuditEvent.seq > before)))
    assert [e.action for e in refused if e.action != "audit:alert"] == \
        ["audit:refused"] * len(API_ROUTES)
    assert all(e.outcome == "denied" and e.actor_subject == persona for e in refused)
    assert not any(e.action == "audit:export" for e in refused)


@pytest.mark.parametrize("persona", ["auditor", "admin"])
def test_auditors_and_admins_read_every_api_route(
    demo: DemoInstance, client: FlaskClient, persona: str,
) -> None:
    headers = issue_token(demo, persona)
    for route in API_ROUTES:
        response = client.get(route, headers=headers)
        assert response.status_code == 200, (route, response.get_data(as_text=True)[:300])


def test_audit_routes_only_read(demo: DemoInstance, client: FlaskClient) -> None:
    """No audit route accepts a method that could change the log, for anyone; the one POST
    runs a check, which only adds its own audit:verify event (test_verification_page.py)."""
    rules = [rule for rule in demo.app.url_map.iter_rules()
             if rule.endpoint.startswith(AUDIT_BLUEPRINTS)]
    assert len(rules) >= len(API_ROUTES) + len(PAGE_ROUTES) - 2
    for rule in rules:
        allowed = {"GET", "HEAD", "OPTIONS"} | ({"POST"} if rule.endpoint == "audit.run_check"
                                                else set())
        assert set(rule.methods or ()) <= allowed, rule
    admin = issue_token(demo, "admin")
    before = event_count(demo)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for route in ("/api/v1/audit/events", "/api/v1/audit/events/1"):
            response = client.open(route, method=method, headers=admin, json={})
            assert_error_shape(response, 405)
    assert event_count(demo) == before


def test_pages_send_anonymous_users_to_sign_in_and_refuse_other_roles(
    live: DemoInstance,
) -> None:
    base = live.base_url
    for route in PAGE_ROUTES:
        anonymous = requests.get(f"{base}{route}", allow_redirects=False, timeout=10)
        assert anonymous.status_code == 302, route
        assert anonymous.headers["Location"].startswith("/auth/login?next=")
    researcher = sign_in(base, "researcher")
    assert 'href="/audit"' not in researcher.get(f"{base}/", timeout=10).text
    for route in PAGE_ROUTES:
        refused = researcher.get(f"{base}{route}", timeout=10)
        assert refused.status_code == 403, route
        assert "Not allowed" in refused.text
    auditor = sign_in(base, "auditor")
    assert 'href="/audit"' in auditor.get(f"{base}/", timeout=10).text
    for route in PAGE_ROUTES:
        page = auditor.get(f"{base}{route}", timeout=10)
        assert page.status_code == 200, (route, page.text[:500])
        # Scripts come only from files (the CSP blocks inline ones); none is inline.
        assert not INLINE_SCRIPT.search(page.text) and "style=" not in page.text
