"""Sign-in edge cases: tampered callbacks, open redirects, cookies, logout."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests
from sqlalchemy import select

from audit.log.models import AuditEvent
from tests.conftest import DemoInstance, sign_in
from tests.html_forms import form_with_field


def start_login(base: str, next_path: str = "/requests") -> tuple[requests.Session, str]:
    """Run the IdP step but stop before the callback; returns the callback URL."""
    browser = requests.Session()
    page = browser.get(f"{base}/auth/login", params={"next": next_path}, timeout=10)
    form = form_with_field(page.text, page.url, "username")
    form.fields["username"] = "researcher"
    redirected = browser.post(form.action, data=form.fields, allow_redirects=False, timeout=10)
    assert redirected.status_code in (302, 303)
    return browser, redirected.headers["Location"]


def refused_logins(live: DemoInstance) -> list[AuditEvent]:
    with live.app.extensions["custodian.session_factory"]() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == "auth:login_failed"))
        )


def assert_not_signed_in(browser: requests.Session, base: str) -> None:
    assert browser.get(f"{base}/api/v1/users/me", timeout=10).status_code == 401


def test_callback_with_tampered_state_gets_error_page_and_no_session(live: DemoInstance) -> None:
    browser, callback = start_login(live.base_url)
    forged = callback.replace("state=", "state=x")
    response = browser.get(forged, timeout=10)
    assert response.status_code == 400
    assert "Sign-in failed" in response.text and "Traceback" not in response.text
    assert_not_signed_in(browser, live.base_url)
    assert [e.outcome for e in refused_logins(live)] == ["denied"]


def test_callback_with_tampered_code_gets_error_page(live: DemoInstance) -> None:
    browser, callback = start_login(live.base_url)
    forged = callback.replace("code=", "code=x")
    response = browser.get(forged, timeout=10)
    assert response.status_code == 400
    assert_not_signed_in(browser, live.base_url)


def test_replayed_callback_does_not_sign_in_a_second_browser(live: DemoInstance) -> None:
    browser, callback = start_login(live.base_url)
    assert browser.get(callback, timeout=10).status_code == 200
    thief = requests.Session()
    assert thief.get(callback, timeout=10).status_code == 400
    assert_not_signed_in(thief, live.base_url)


def test_callback_with_provider_error_is_a_clear_page(live: DemoInstance) -> None:
    browser, callback = start_login(live.base_url)
    state = parse_qs(urlsplit(callback).query)["state"][0]
    response = browser.get(
        f"{live.base_url}/auth/callback",
        params={"error": "access_denied", "state": state},
        timeout=10,
    )
    assert response.status_code == 400
    assert "Sign-in failed" in response.text


def test_next_is_limited_to_our_own_paths(live: DemoInstance) -> None:
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        browser, callback = start_login(live.base_url, next_path=evil)
        landed = browser.get(callback, allow_redirects=False, timeout=10)
        assert landed.status_code == 302
        # Not there: to the signed-in user's own work page instead.
        assert landed.headers["Location"] in ("/work", f"{live.base_url}/work"), evil


def test_session_cookie_is_httponly_and_samesite(live: DemoInstance) -> None:
    browser, callback = start_login(live.base_url)
    landed = browser.get(callback, allow_redirects=False, timeout=10)
    cookie = landed.headers["Set-Cookie"]
    assert "custodian_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_sign_in_is_audited_with_issuer_and_subject(live: DemoInstance) -> None:
    sign_in(live.base_url, "researcher")
    with live.app.extensions["custodian.session_factory"]() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "auth:login")).one()
    assert event.actor_subject == "researcher"
    assert event.actor_issuer == f"{live.base_url}/dev-idp"
    assert event.ip == "127.0.0.1"


def test_logout_needs_csrf_and_ends_the_session(live: DemoInstance) -> None:
    browser = sign_in(live.base_url, "researcher")
    forged = browser.post(f"{live.base_url}/auth/logout", timeout=10)
    assert forged.status_code == 400
    assert browser.get(f"{live.base_url}/api/v1/users/me", timeout=10).status_code == 200
    token = browser.get(f"{live.base_url}/api/v1/users/me", timeout=10).json()["csrf_token"]
    out = browser.post(f"{live.base_url}/auth/logout", data={"csrf_token": token}, timeout=10)
    assert out.status_code == 200
    assert_not_signed_in(browser, live.base_url)


def test_identity_provider_down_gets_a_clear_page(demo: DemoInstance) -> None:
    """Nothing listens on the demo port here (no live server), so discovery fails."""
    response = demo.app.test_client().get("/auth/login")
    assert response.status_code == 502
    assert "identity provider could not be reached" in response.get_data(as_text=True)
