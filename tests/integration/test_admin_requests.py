"""The admins' list of every request: filters by state, dataset, committee, applicant and
filing date, the requests stuck before endorsement, pages, and bad filters beside the form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from access.identity.actor import Actor
from access.identity.models import User
from access.requests.admin_list import RequestFilter, list_all_requests
from audit.log.models import AuditEvent
from tests import factories
from tests.conftest import DemoInstance
from tests.integration.audit_support import event_count
from tests.integration.test_pages_and_health import signed_in_client

CSRF = {"X-CSRF-Token": "known-token"}
STATEMENT = "A research-use statement that is long enough to pass validation."


@dataclass(frozen=True)
class World:
    admin: FlaskClient
    submitted: int  # by the researcher, whose institution has a signing official
    stuck: int  # by someone whose institution has no signing official: submitting is refused
    draft: int  # researcher2's
    elsewhere: int  # for another committee's dataset
    other_dataset: int
    other_committee: int


def file(client: FlaskClient, title: str, dataset_id: int, *, submit: bool) -> int:
    filed = client.post("/api/v1/requests", headers=CSRF, json={
        "title": title, "research_use_statement": STATEMENT, "dataset_ids": [dataset_id]})
    assert filed.status_code == 201, filed.get_json()
    request_id: int = filed.get_json()["id"]
    if submit:
        done = client.post(f"/api/v1/requests/{request_id}/submit", headers=CSRF)
        assert done.status_code == 200, done.get_json()
    return request_id


def stuck(client: FlaskClient) -> int:
    request_id = file(client, "Nobody to endorse", 1, submit=False)
    refused = client.post(f"/api/v1/requests/{request_id}/submit", headers=CSRF)
    assert refused.status_code == 409, refused.get_json()
    return request_id


@pytest.fixture
def world(demo: DemoInstance) -> World:
    now = demo.clock.now()
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        factories.user(session, now, subject="loner", name="Lee Loner",
                       institution="Nowhere College")
        committee = factories.committee(session, now, name="Other DAC")
        dataset = factories.controlled_dataset(session, now, committee)
        other_dataset, other_committee = dataset.id, committee.id
    researcher = signed_in_client(demo, "researcher")
    return World(
        admin=signed_in_client(demo, "admin"),
        submitted=file(researcher, "Liver eQTLs", 1, submit=True),
        stuck=stuck(signed_in_client(demo, "loner")),
        draft=file(signed_in_client(demo, "researcher2"), "A draft", 1, submit=False),
        elsewhere=file(researcher, "Another committee", other_dataset, submit=True),
        other_dataset=other_dataset, other_committee=other_committee,
    )


def listed(client: FlaskClient, query: str = "") -> list[int]:
    page = client.get(f"/admin/requests{query}")
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    table = page.get_data(as_text=True).split('id="all-requests"')[1]
    return [int(n) for n in re.findall(r'<a href="/requests/(\d+)">', table)]


def test_the_admin_sees_every_request_newest_first(world: World) -> None:
    assert listed(world.admin) == [world.elsewhere, world.draft, world.stuck, world.submitted]
    html = world.admin.get("/admin/requests").get_data(as_text=True)
    assert "Lee Loner" in html and "Nowhere College" in html and "Other DAC" in html


def test_filters_by_state_applicant_dataset_and_committee(world: World) -> None:
    assert listed(world.admin, "?state=draft") == [world.draft, world.stuck]
    assert listed(world.admin, "?applicant=riley") == [world.elsewhere, world.submitted]
    assert listed(world.admin, "?applicant=researcher2@demo.example") == [world.draft]
    assert listed(world.admin, f"?dataset_id={world.other_dataset}") == [world.elsewhere]
    assert listed(world.admin, f"?committee_id={world.other_committee}") == [world.elsewhere]
    assert listed(world.admin, "?state=submitted&dataset_id=1") == [world.submitted]
    assert listed(world.admin, "?state=approved") == []


def test_stuck_lists_the_requests_no_signing_official_can_endorse(
    world: World,
) -> None:
    assert listed(world.admin, "?stuck=1") == [world.stuck]
    held = world.admin.get("/api/v1/requests?scope=held").get_json()["requests"]
    assert [r["id"] for r in held] == [world.stuck]


def test_filing_dates_include_whole_days(demo: DemoInstance, world: World) -> None:
    today = demo.clock.now().date()
    assert len(listed(world.admin, f"?filed_from={today}&filed_to={today}")) == 4
    assert listed(world.admin, f"?filed_from={today + timedelta(days=1)}") == []
    assert listed(world.admin, f"?filed_to={today - timedelta(days=1)}") == []


def test_bad_filters_are_shown_beside_the_form_with_a_400_and_write_nothing(
    demo: DemoInstance, world: World,
) -> None:
    before = event_count(demo)
    for query, field in [("?state=lost", "state"), ("?filed_from=yesterday", "filed from"),
                         ("?filed_from=2026-02-02&filed_to=2026-02-01", "filed to"),
                         ("?dataset_id=x", "dataset id")]:
        page = world.admin.get(f"/admin/requests{query}")
        assert page.status_code == 400, query
        assert f"<strong>{field}</strong>" in page.get_data(as_text=True), query
        assert 'id="request-filters"' in page.get_data(as_text=True)
    assert event_count(demo) == before


def test_others_are_refused_and_the_refusal_is_recorded(demo: DemoInstance,
                                                         world: World) -> None:
    before = event_count(demo)
    assert signed_in_client(demo, "auditor").get("/admin/requests").status_code == 403
    with demo.app.extensions["custodian.session_factory"]() as session:
        refused = session.scalars(select(AuditEvent).where(AuditEvent.seq > before)).all()
    assert [(e.action, e.outcome, e.details.get("what")) for e in refused] == [
        ("admin:refused", "denied", "request_list")]


def test_pages_are_keyset_pages_on_the_id(demo: DemoInstance, world: World) -> None:
    with demo.app.extensions["custodian.session_factory"]() as session:
        admin = Actor(user=session.scalars(select(User).where(User.subject == "admin")).one())
        first = list_all_requests(session, admin, RequestFilter(), limit=3)
        rest = list_all_requests(session, admin, RequestFilter(), before=first.next_before,
                                 limit=3)
    assert [r.id for r in first.requests] == [world.elsewhere, world.draft, world.stuck]
    assert [r.id for r in rest.requests] == [world.submitted] and rest.next_before is None


def test_every_admin_page_shares_one_navigation(world: World) -> None:
    for path in ("/admin/requests", "/admin/users", "/admin/committees", "/admin/catalogue",
                 "/admin/committees/1", "/admin/datasets/1", "/admin/institutions"):
        html = world.admin.get(path).get_data(as_text=True)
        nav = html.split('<nav class="subnav" aria-label="Administration">')[1].split("</nav>")[0]
        assert re.findall(r'href="([^"]+)"', nav) == [
            "/admin/requests", "/admin/users", "/admin/committees", "/admin/institutions",
            "/admin/catalogue"], path
