"""Coverage: the whole demo flow over HTTP writes every security-relevant event, complete.

Each record must say when (UTC, microseconds), who (user, roles, issuer, subject, token),
from where (address, user agent, request id), what (action, target), the outcome, and
details. The auditor's JSON Lines export is the witness.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import requests

from app import create_app
from audit.log.actions import AuditAction
from tests.agreements import accept_over_http
from tests.conftest import DemoInstance, csrf_header, serving, sign_in
from tests.e2e.test_whole_flow import STATEMENT, controlled_dataset_and_file, tamper

EXPECTED = {
    "admin:user_create", "admin:role_assign", "admin:committee_create",
    "admin:committee_member_add", "admin:study_register", "admin:dataset_register",
    "admin:file_register", "admin:agreement_publish", "agreement:accept",
    "auth:login", "auth:login_failed", "auth:logout",
    "token:create", "token:refused", "token:revoke",
    "request:create", "request:submit", "request:withdraw", "request:endorse",
    "request:approve",
    "request:reject", "request:refused", "grant:create",
    "url:issue", "url:refuse", "file:serve", "file:refuse",
    "audit:export", "audit:refused", "audit:alert", "audit:verify",
}
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
# Events a request did not directly cause: the CLI's verification, and alerts (raised by
# the system inside the triggering request, so they keep its request id but no address).
NOT_FROM_A_CLIENT = {"audit:verify", "audit:alert"}
WITHOUT_TARGET = {"auth:login_failed", "token:refused", "audit:refused", "audit:export",
                  "audit:verify"}



@pytest.fixture
def live(demo: DemoInstance) -> Iterator[DemoInstance]:
    """The demo served over HTTP, alerting from a user's second URL in an hour."""
    settings = replace(demo.settings, alert_downloads_per_hour=1, alert_refusals_per_hour=100)
    app = create_app(settings, clock=demo.clock)
    with serving(replace(demo, app=app, settings=settings)) as served:
        yield served
    app.extensions["custodian.engine"].dispose()

def file_request(browser: requests.Session, base: str, dataset_id: int,
                 headers: dict[str, str]) -> int:
    filed = browser.post(f"{base}/api/v1/requests", headers=headers, timeout=10, json={
        "title": "Ageing eQTLs", "research_use_statement": STATEMENT,
        "dataset_ids": [dataset_id]})
    assert filed.status_code == 201, filed.text
    request_id: int = filed.json()["id"]
    return request_id


def act(browser: requests.Session, base: str, request_id: int, action: str,
        headers: dict[str, str], body: dict[str, Any] | None = None) -> int:
    status: int = browser.post(f"{base}/api/v1/requests/{request_id}/{action}",
                               headers=headers, json=body, timeout=10).status_code
    return status


def drive_the_demo(live: DemoInstance) -> str:
    """Everything users do in the demo, including what they are refused; returns the token."""
    base = live.base_url
    dataset_id, genotype = controlled_dataset_and_file(base)
    assert requests.get(f"{base}/auth/callback?code=forged&state=forged",
                        timeout=10).status_code == 400

    researcher = sign_in(base, "researcher")
    cookie_headers = csrf_header(researcher, base)
    created = researcher.post(f"{base}/api/v1/tokens", headers=cookie_headers, timeout=10,
                              json={"name": "laptop",
                                    "scopes": ["catalogue", "download", "requests"]})
    assert created.status_code == 201
    token = created.json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    scripted = requests.Session()  # a script using the token, not the browser session
    approved_id = file_request(scripted, base, dataset_id, bearer)
    assert act(scripted, base, approved_id, "submit", bearer) == 200
    withdrawn_id = file_request(scripted, base, dataset_id, bearer)
    assert act(scripted, base, withdrawn_id, "withdraw", bearer) == 200
    rejected_id = file_request(scripted, base, dataset_id, bearer)
    assert act(scripted, base, rejected_id, "submit", bearer) == 200
    assert act(scripted, base, approved_id, "approve", bearer,
               {"reason": "my own", "days": 30}) == 403

    official = sign_in(base, "signing-official")
    official_headers = csrf_header(official, base)
    for endorsed_id in (approved_id, rejected_id):
        assert act(official, base, endorsed_id, "endorse", official_headers) == 200

    chair = sign_in(base, "dac-chair")
    chair_headers = csrf_header(chair, base)
    assert act(chair, base, approved_id, "approve", chair_headers,
               {"reason": "Consistent with GRU consent.", "days": 30}) == 200
    assert act(chair, base, rejected_id, "reject", chair_headers,
               {"reason": "Out of scope."}) == 200

    refused = scripted.get(f"{base}/api/v1/files/{genotype['id']}/url", headers=bearer, timeout=10)
    assert refused.json()["error"]["code"] == "agreement_not_accepted"
    accept_over_http(scripted, base, dataset_id, bearer)
    url = scripted.get(f"{base}/api/v1/files/{genotype['id']}/url", headers=bearer,
                       timeout=10).json()["url"]
    assert requests.get(url, timeout=30).status_code == 200
    assert requests.get(tamper(url, signature="0" * 64), timeout=10).status_code == 403
    outsider = sign_in(base, "researcher2")
    assert outsider.get(f"{base}/api/v1/files/{genotype['id']}/url",
                        timeout=10).status_code == 403
    assert outsider.get(f"{base}/api/v1/audit/events", timeout=10).status_code == 403

    scripted.get(f"{base}/api/v1/files/{genotype['id']}/url", headers=bearer, timeout=10)

    token_id = created.json()["id"]
    assert researcher.delete(f"{base}/api/v1/tokens/{token_id}", headers=cookie_headers,
                             timeout=10).status_code == 204
    assert scripted.get(f"{base}/api/v1/users/me", headers=bearer, timeout=10).status_code == 401
    assert researcher.post(f"{base}/auth/logout", headers=cookie_headers,
                           timeout=10).status_code in (200, 302)
    verified = live.app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    return str(token_id)


def test_the_demo_flow_records_every_security_event_with_who_where_what(
    live: DemoInstance,
) -> None:
    base = live.base_url
    token_id = drive_the_demo(live)
    auditor = sign_in(base, "auditor")
    spreadsheet = auditor.get(f"{base}/api/v1/audit/events/export?format=csv", timeout=30)
    assert spreadsheet.status_code == 200
    exported = auditor.get(f"{base}/api/v1/audit/events/export?format=jsonl", timeout=30)
    assert exported.status_code == 200
    events = [json.loads(line) for line in exported.text.splitlines()]
    actions = {e["action"] for e in events}
    assert actions >= EXPECTED, sorted(EXPECTED - actions)
    assert actions <= {a.value for a in AuditAction}

    seeded = max(e["seq"] for e in events if e["action"].startswith("admin:"))
    users = {e["actor_user_id"]: (e["actor_issuer"], e["actor_subject"])
             for e in events if e["action"] == "auth:login"}
    for event in events:
        assert TIMESTAMP.fullmatch(event["occurred_at"]), event
        assert event["outcome"] in ("success", "denied", "error"), event
        assert isinstance(event["details"], dict), event
        if event["seq"] <= seeded:
            continue  # the demo seed: no user, no request
        if event["actor_user_id"] is not None:
            assert (event["actor_issuer"], event["actor_subject"]) == \
                users[event["actor_user_id"]], event
            assert event["actor_issuer"] == f"{base}/dev-idp"
            assert event["actor_roles"] is not None, event
        if event["action"] not in NOT_FROM_A_CLIENT:
            assert event["ip"] == "127.0.0.1", event
            assert event["user_agent"], event
        if event["action"] != "audit:verify":
            assert event["request_id"], event
        if event["action"] not in WITHOUT_TARGET:
            assert event["target_type"] and event["target_id"], event

    by_token = [e for e in events if str(e["actor_token_id"]) == token_id]
    assert {"request:create", "request:submit", "request:withdraw", "request:refused",
            "url:issue"} <= {e["action"] for e in by_token}
    assert all(e["actor_subject"] == "researcher" for e in by_token)
    served = next(e for e in events if e["action"] == "file:serve")
    # The URL was issued to the token, and carries its id, signed: the download names it too.
    assert served["actor_subject"] == "researcher" and str(served["actor_token_id"]) == token_id
    approve = next(e for e in events if e["action"] == "request:approve")
    assert approve["actor_subject"] == "dac-chair" and approve["details"]["to"] == "approved"
    refusals = [e["details"] for e in events if e["action"] == "url:refuse"]
    assert [r["reason"] for r in refusals[:2]] == ["agreement_not_accepted", "no_grant"]
    assert refusals[0]["version"] == 1
    failed = next(e for e in events if e["action"] == "auth:login_failed")
    assert failed["outcome"] == "denied" and failed["actor_user_id"] is None
    revoked = next(e for e in events if e["action"] == "token:revoke")
    assert revoked["target_id"] == token_id


def test_auditor_pages_show_the_flow(live: DemoInstance) -> None:
    base = live.base_url
    drive_the_demo(live)
    dataset_id, genotype = controlled_dataset_and_file(base)
    auditor = sign_in(base, "auditor")
    report = auditor.get(f"{base}/audit/reports/dataset/{dataset_id}", timeout=10).text
    # The report names the researcher, linked to their own report, and links the file.
    assert re.search(r'<a href="/audit/reports/user/\d+">[^<]*researcher@demo\.example', report)
    assert f'href="/audit?file={genotype["id"]}">{genotype["name"]}</a>' in report
    chart = auditor.get(f"{base}/audit/downloads?dataset={dataset_id}", timeout=10).text
    assert chart.count('<rect class="bar bar-urls"') == 30
    assert ": 2 URLs issued</title>" in chart and ": 1 files served</title>" in chart
    alerts = auditor.get(f"{base}/audit/alerts", timeout=10).text
    assert "downloads per hour" in alerts
    found = auditor.get(f"{base}/audit?action=url:&subject=researcher2", timeout=10).text
    assert found.count("<code>url:refuse</code>") == 1 and "url:issue" not in found.split(
        "<tbody>")[1]
