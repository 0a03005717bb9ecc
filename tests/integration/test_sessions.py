"""Sessions that end: sign-out ends a session wherever its cookie was copied; "sign out
everywhere" for oneself and by an admin; idle timeout and absolute lifetime; roles as
they are now, on the next request."""

from __future__ import annotations

from datetime import timedelta

import requests
from sqlalchemy import select

from access.identity.models import RoleAssignment, User
from audit.log.models import AuditEvent
from tests.conftest import DemoInstance, csrf_header, issue_token, sign_in
from tests.integration.test_pages_and_health import signed_in_client


def copy_of(browser: requests.Session) -> requests.Session:
    thief = requests.Session()
    thief.cookies.update(browser.cookies)
    return thief


def me(browser: requests.Session, base: str) -> int:
    status: int = browser.get(f"{base}/api/v1/users/me", timeout=10).status_code
    return status


def test_signing_out_ends_every_copy_of_the_cookie(live: DemoInstance) -> None:
    base = live.base_url
    browser = sign_in(base, "researcher")
    headers = csrf_header(browser, base)
    stolen = copy_of(browser)
    assert me(stolen, base) == 200
    assert browser.post(f"{base}/auth/logout", headers=headers, timeout=10).status_code == 200
    assert me(stolen, base) == 401
    made = stolen.post(f"{base}/api/v1/tokens", headers=headers, timeout=10,
                       json={"name": "stolen", "scopes": ["admin", "audit-read"]})
    assert made.status_code in (400, 401), made.text  # no session, so no CSRF token either
    assert "token" not in made.json()


def test_signing_out_everywhere_ends_the_users_other_sessions(live: DemoInstance) -> None:
    base = live.base_url
    laptop, desktop = sign_in(base, "researcher"), sign_in(base, "researcher")
    other_user = sign_in(base, "researcher2")
    ended = desktop.delete(f"{base}/api/v1/users/me/sessions",
                           headers=csrf_header(desktop, base), timeout=10)
    assert ended.status_code == 204, ended.text
    assert me(laptop, base) == 401 and me(desktop, base) == 401
    assert me(other_user, base) == 200
    with live.app.extensions["custodian.session_factory"]() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "auth:session_end")
                                ).one()
    assert event.details == {"sessions": 2, "reason": "user"}


def test_the_page_button_signs_out_everywhere(demo: DemoInstance) -> None:
    client = signed_in_client(demo, "researcher")
    assert "Sign out everywhere" in client.get("/tokens").get_data(as_text=True)
    assert client.post("/auth/logout-everywhere",
                       data={"csrf_token": "known-token"}).status_code == 302
    assert client.get("/api/v1/users/me").status_code == 401


def test_an_admin_ends_a_users_sessions_and_others_may_not(live: DemoInstance) -> None:
    base = live.base_url
    browser = sign_in(base, "researcher")
    with live.app.extensions["custodian.session_factory"]() as session:
        user_id = session.scalars(select(User.id).where(User.subject == "researcher")).one()
    refused = requests.delete(f"{base}/api/v1/users/{user_id}/sessions",
                              headers=issue_token(live, "researcher2"), timeout=10)
    assert refused.status_code == 403
    assert me(browser, base) == 200
    ended = requests.delete(f"{base}/api/v1/users/{user_id}/sessions",
                            headers=issue_token(live, "admin"), timeout=10)
    assert ended.status_code == 204, ended.text
    assert me(browser, base) == 401
    missing = requests.delete(f"{base}/api/v1/users/999999/sessions",
                              headers=issue_token(live, "admin"), timeout=10)
    assert missing.status_code == 404


def test_a_session_idles_out(demo: DemoInstance) -> None:
    client = signed_in_client(demo, "researcher")
    demo.clock.advance(timedelta(minutes=demo.settings.session_idle_minutes - 1))
    assert client.get("/api/v1/users/me").status_code == 200  # and counts as activity
    demo.clock.advance(timedelta(minutes=demo.settings.session_idle_minutes - 1))
    assert client.get("/api/v1/users/me").status_code == 200
    demo.clock.advance(timedelta(minutes=demo.settings.session_idle_minutes))
    assert client.get("/api/v1/users/me").status_code == 401


def test_a_busy_session_still_ends_at_its_absolute_lifetime(demo: DemoInstance) -> None:
    client = signed_in_client(demo, "researcher")
    step = timedelta(minutes=demo.settings.session_idle_minutes // 2)
    lived = timedelta()
    while lived + step < timedelta(hours=demo.settings.session_max_hours):
        demo.clock.advance(step)
        lived += step
        assert client.get("/api/v1/users/me").status_code == 200, lived
    demo.clock.advance(step)
    assert client.get("/api/v1/users/me").status_code == 401


def test_a_role_taken_back_counts_on_the_next_request(demo: DemoInstance) -> None:
    client = signed_in_client(demo, "admin")
    assert client.get("/admin/committees").status_code == 200
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        admin = session.scalars(select(User).where(User.subject == "admin")).one()
        for assignment in session.scalars(select(RoleAssignment)
                                          .where(RoleAssignment.user_id == admin.id)):
            session.delete(assignment)
    assert client.get("/admin/committees").status_code == 403
