"""Sign-in through an independent, OpenID Certified provider (panva's oidc-provider).

The service is configured exactly as in production, through the single-provider variables:
a discovery URL, a client id and a client secret. The provider enforces PKCE and checks the
client secret itself, so these tests prove the service does its part against a real one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select

from access.identity.actor import OPERATOR, Actor
from access.identity.institutions import ensure_institution, set_user_institution
from access.identity.models import Role, User
from audit.log.models import AuditEvent
from tests import factories
from tests.live_server import running_service, serving
from tests.oidc_provider import NodeProvider, authorize
from tests.ports import reserve_port

CLIENT_ID = "custodian-e2e"
CLIENT_SECRET = "a-client-secret-only-the-provider-and-the-service-know"


@dataclass
class External:
    provider: NodeProvider
    app: Flask
    base_url: str

    @property
    def callback(self) -> str:
        return f"{self.base_url}/auth/callback"

    def sign_in_flow(self, browser: requests.Session, login: str = "alice") -> str:
        """Everything up to the provider's redirect back; returns the callback URL."""
        return authorize(browser, f"{self.base_url}/auth/login?next=/requests", login,
                         self.callback)

    def events(self, action: str) -> list[AuditEvent]:
        with self.app.extensions["custodian.session_factory"]() as session:
            return list(session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


@pytest.fixture
def external(tmp_path: Path, fresh_database_url: str) -> Iterator[Callable[..., External]]:
    """Builds a provider and a service that trusts it; `app_secret` may differ from its own."""
    with ExitStack() as stack:
        def build(*, app_secret: str = CLIENT_SECRET, provider_running: bool = True,
                  settings: dict[str, str] | None = None) -> External:
            app_port = reserve_port()
            provider = NodeProvider(reserve_port(), CLIENT_ID, CLIENT_SECRET,
                                    f"http://127.0.0.1:{app_port}/auth/callback",
                                    tmp_path / "oidc-provider.log")
            stack.callback(provider.stop)
            if provider_running:
                provider.start()
            app = stack.enter_context(running_service({
                "ENV": "demo", "DEV_IDP": "false", "INSTANCE_DIR": str(tmp_path / "instance"),
                "DATABASE_URL": fresh_database_url, "PUBLIC_URL": f"http://127.0.0.1:{app_port}",
                "OIDC_DISCOVERY_URL": provider.discovery_url, "OIDC_CLIENT_ID": CLIENT_ID,
                "OIDC_CLIENT_SECRET": app_secret, **(settings or {}),
            }, app_port))
            return External(provider, app, f"http://127.0.0.1:{app_port}")

        yield build


def institutions(setup: External, *names: str, domains: Sequence[str] = ()) -> list[int]:
    """Records made as an admin would; the last one lists the email domains."""
    with setup.app.extensions["custodian.session_factory"].begin() as session:
        made = [ensure_institution(session, OPERATOR, name=name, now=datetime.now(UTC),
                                   email_domains=list(domains) if name == names[-1] else [])
                for name in names]
        return [institution.id for institution in made]


def institution_of(setup: External, subject: str) -> tuple[int | None, str | None]:
    with setup.app.extensions["custodian.session_factory"]() as session:
        user = session.scalars(select(User).where(User.subject == subject)).one()
        return user.institution_id, user.institution_source


def signs_in(setup: External, login: str) -> None:
    browser = requests.Session()
    assert browser.get(setup.sign_in_flow(browser, login), timeout=10).status_code == 200


def test_institution_from_admin_then_the_providers_claim_then_the_email_domain(
    external: Callable[..., External],
) -> None:
    """The provider sends institution "Example University" and a verified email at
    example.org, which another institution lists: the claim wins, and an admin's setting
    outranks both."""
    setup = external()
    claimed, by_domain = institutions(setup, "Example University", "Example Org",
                                      domains=["example.org"])
    signs_in(setup, "alice")
    assert institution_of(setup, "alice") == (claimed, "claim")
    with setup.app.extensions["custodian.session_factory"].begin() as session:
        admin = factories.user(session, datetime.now(UTC), roles=[Role.ADMIN])
        alice = session.scalars(select(User).where(User.subject == "alice")).one()
        set_user_institution(session, Actor(user=admin), alice.id, by_domain,
                             now=datetime.now(UTC))
    signs_in(setup, "alice")
    assert institution_of(setup, "alice") == (by_domain, "admin")


def test_with_the_claim_turned_off_the_verified_email_domain_decides(
    external: Callable[..., External],
) -> None:
    setup = external(settings={"OIDC_INSTITUTION_CLAIM": "none"})
    _, by_domain = institutions(setup, "Example University", "Example Org",
                                domains=["example.org"])
    signs_in(setup, "alice")
    assert institution_of(setup, "alice") == (by_domain, "email_domain")
    signs_in(setup, "unverified-bob")  # an unverified email places nobody
    assert institution_of(setup, "unverified-bob") == (None, None)


def assert_not_signed_in(browser: requests.Session, base: str) -> None:
    assert browser.get(f"{base}/api/v1/users/me", timeout=10).status_code == 401


def test_sign_in_keys_the_user_by_issuer_and_subject_then_api_then_logout(
    external: Callable[..., External],
) -> None:
    setup = external()
    base, issuer = setup.base_url, setup.provider.issuer
    [university] = institutions(setup, "Example University")
    browser = requests.Session()
    landed = browser.get(setup.sign_in_flow(browser), timeout=10)
    assert landed.status_code == 200 and landed.url == f"{base}/requests"

    me = browser.get(f"{base}/api/v1/users/me", timeout=10).json()
    assert (me["issuer"], me["subject"]) == (issuer, "alice")
    assert me["email"] == "alice@example.org" and me["name"] == "Test user alice"
    assert me["institution"] == "Example University"
    with setup.app.extensions["custodian.session_factory"]() as session:
        [user] = session.scalars(select(User)).all()
    assert (user.id, user.issuer, user.subject) == (me["id"], issuer, "alice")
    [login] = setup.events("auth:login")
    assert (login.actor_issuer, login.actor_subject) == (issuer, "alice")
    assert login.details == {"issuer": issuer, "institution_id": university,
                             "institution_from": "claim"}

    csrf = {"X-CSRF-Token": me["csrf_token"]}
    created = browser.post(f"{base}/api/v1/tokens", headers=csrf, json={"name": "laptop"},
                           timeout=10)
    assert created.status_code == 201, created.text
    mine = browser.get(f"{base}/api/v1/requests", params={"scope": "mine"}, timeout=10)
    assert mine.status_code == 200 and mine.json() == {"requests": []}

    out = browser.post(f"{base}/auth/logout", data={"csrf_token": me["csrf_token"]}, timeout=10)
    assert out.status_code == 200
    assert_not_signed_in(browser, base)
    assert [e.actor_subject for e in setup.events("auth:logout")] == ["alice"]


def test_authorization_request_carries_state_nonce_and_an_s256_challenge(
    external: Callable[..., External],
) -> None:
    setup = external()
    started = requests.get(f"{setup.base_url}/auth/login", allow_redirects=False, timeout=10)
    assert started.headers["Location"].startswith(f"{setup.provider.issuer}/auth?")
    query = parse_qs(urlsplit(started.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43  # base64url of a SHA-256 digest
    assert len(query["state"][0]) >= 20 and len(query["nonce"][0]) >= 20
    assert query["scope"] == ["openid email profile"]


def test_stolen_code_fails_with_another_flows_pkce_verifier(
    external: Callable[..., External],
) -> None:
    """The thief's own flow has a valid state; only PKCE ties the victim's code to the victim."""
    setup = external()
    victim_code = parse_qs(urlsplit(setup.sign_in_flow(requests.Session())).query)["code"][0]
    thief = requests.Session()
    thief_callback = setup.sign_in_flow(thief, login="mallory")
    own_code = parse_qs(urlsplit(thief_callback).query)["code"][0]
    response = thief.get(thief_callback.replace(own_code, victim_code), timeout=10)
    assert response.status_code == 400
    assert "Sign-in failed" in response.text
    assert_not_signed_in(thief, setup.base_url)


def test_wrong_client_secret_fails_sign_in_without_a_session(
    external: Callable[..., External],
) -> None:
    setup = external(app_secret="not-the-secret-the-provider-registered")
    browser = requests.Session()
    response = browser.get(setup.sign_in_flow(browser), timeout=10)
    assert response.status_code == 400
    assert "Sign-in failed" in response.text and "Traceback" not in response.text
    assert_not_signed_in(browser, setup.base_url)
    assert [e.outcome for e in setup.events("auth:login_failed")] == ["denied"]
    assert setup.events("auth:login") == []


def flow_secrets(app: Flask, browser: requests.Session) -> dict[str, Any]:
    """The pending flow's verifier and nonce, read from the signed session cookie."""
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    contents: dict[str, Any] = serializer.loads(browser.cookies["custodian_session"])
    [flow] = [value["data"] for key, value in contents.items() if key.startswith("_state_")]
    return dict(flow)


def test_codes_verifiers_and_secrets_stay_out_of_the_logs(
    external: Callable[..., External], caplog: pytest.LogCaptureFixture,
) -> None:
    setup = external()
    # As an operator chasing a problem might: authlib would log the PKCE verifier at DEBUG.
    caplog.set_level(logging.DEBUG)
    browser = requests.Session()
    callback = setup.sign_in_flow(browser)
    flow = flow_secrets(setup.app, browser)
    assert browser.get(callback, timeout=10).status_code == 200
    query = parse_qs(urlsplit(callback).query)
    for secret in (query["code"][0], query["state"][0], flow["code_verifier"], flow["nonce"],
                   CLIENT_SECRET, "code_verifier"):
        assert secret not in caplog.text
    assert "GET /auth/callback?[redacted]" in caplog.text
    assert not [r for r in caplog.records if r.name.startswith("authlib") and
                r.levelno < logging.INFO]


def test_provider_down_at_login_gets_a_502_page_and_sign_in_works_once_it_is_back(
    external: Callable[..., External],
) -> None:
    setup = external(provider_running=False)
    down = requests.get(f"{setup.base_url}/auth/login?next=/requests", timeout=10)
    assert down.status_code == 502
    assert down.headers["Content-Type"].startswith("text/html")
    assert "A service we depend on did not answer" in down.text
    assert "identity provider could not be reached" in down.text
    assert "Traceback" not in down.text

    setup.provider.start()
    browser = requests.Session()
    landed = browser.get(setup.sign_in_flow(browser), timeout=10)
    assert landed.status_code == 200 and landed.url == f"{setup.base_url}/requests"


def test_discovery_answering_an_error_object_gets_a_502_and_is_asked_again(
    external: Callable[..., External],
) -> None:
    """authlib caches any JSON object it is given; an outage must not break sign-in for good."""
    setup = external(provider_running=False)
    outage = Flask("outage")

    @outage.get("/.well-known/openid-configuration")
    def discovery() -> dict[str, str]:
        return {"error": "temporarily_unavailable"}

    with serving(outage, setup.provider.port):
        down = requests.get(f"{setup.base_url}/auth/login?next=/requests", timeout=10)
    assert down.status_code == 502
    assert "identity provider could not be reached" in down.text

    setup.provider.start()
    browser = requests.Session()
    landed = browser.get(setup.sign_in_flow(browser), timeout=10)
    assert landed.status_code == 200 and landed.url == f"{setup.base_url}/requests"


def test_provider_down_at_callback_gets_a_502_page_and_no_session(
    external: Callable[..., External],
) -> None:
    setup = external()
    browser = requests.Session()
    callback = setup.sign_in_flow(browser)
    setup.provider.stop()
    response = browser.get(callback, timeout=10)
    assert response.status_code == 502
    assert "identity provider could not be reached" in response.text
    assert "Traceback" not in response.text
    assert_not_signed_in(browser, setup.base_url)
    [failed] = setup.events("auth:login_failed")
    assert failed.details == {"reason": "ConnectionError"}
