"""Two independent providers configured at once (CUSTODIAN_OIDC_PROVIDERS=nih,orcid).

Both are panva's oidc-provider, so the same login gives the same `sub` at both: only the
issuer tells the two people apart, and only the session tells which flow an answer finishes.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from access.identity.actor import OPERATOR
from access.identity.institutions import ensure_institution
from access.identity.models import User
from audit.log.models import AuditEvent
from tests.live_server import running_service
from tests.oidc_provider import NodeProvider, authorize
from tests.ports import reserve_port

LABELS = {"nih": "NIH RAS", "orcid": "ORCID"}


@dataclass
class Federation:
    providers: dict[str, NodeProvider]
    app: Flask
    base_url: str

    @property
    def callback(self) -> str:
        return f"{self.base_url}/auth/callback"

    def answer(self, browser: requests.Session, name: str, login: str = "alice") -> str:
        """Start at the named provider and sign in there; returns its redirect back to us."""
        return authorize(browser, f"{self.base_url}/auth/login/{name}?next=/requests", login,
                         self.callback)

    def failures(self) -> list[AuditEvent]:
        with self.app.extensions["custodian.session_factory"]() as session:
            return list(session.scalars(
                select(AuditEvent).where(AuditEvent.action == "auth:login_failed")))


@pytest.fixture(scope="module")
def app_port() -> int:
    """One port for the module, so the providers' registered redirect URI stays valid."""
    return reserve_port()


@pytest.fixture(scope="module")
def providers(
    tmp_path_factory: pytest.TempPathFactory, app_port: int
) -> Iterator[dict[str, NodeProvider]]:
    """Started once for the module: every test uses fresh browsers and a fresh database."""
    logs = tmp_path_factory.mktemp("providers")
    started: dict[str, NodeProvider] = {}
    with ExitStack() as stack:
        for name, label in LABELS.items():
            provider = NodeProvider(reserve_port(), f"custodian-at-{name}", f"{name}-client-secret",
                                    f"http://127.0.0.1:{app_port}/auth/callback",
                                    logs / f"{name}.log", institution=f"{label} Institute")
            stack.callback(provider.stop)
            provider.start()
            started[name] = provider
        yield started


@pytest.fixture
def federation(
    tmp_path: Path, fresh_database_url: str, app_port: int, providers: dict[str, NodeProvider]
) -> Iterator[Federation]:
    overrides = {
        "ENV": "demo", "DEV_IDP": "false", "INSTANCE_DIR": str(tmp_path / "instance"),
        "DATABASE_URL": fresh_database_url, "PUBLIC_URL": f"http://127.0.0.1:{app_port}",
        "OIDC_PROVIDERS": ",".join(LABELS),
    }
    for name, provider in providers.items():
        infix = f"OIDC_{name.upper()}_"
        overrides |= {f"{infix}DISCOVERY_URL": provider.discovery_url,
                      f"{infix}CLIENT_ID": provider.client_id,
                      f"{infix}CLIENT_SECRET": provider.client_secret,
                      f"{infix}LABEL": LABELS[name]}
    # ORCID's users are placed by other means: its institution claim is not read.
    overrides["OIDC_ORCID_INSTITUTION_CLAIM"] = "none"
    with running_service(overrides, app_port) as app:
        with app.extensions["custodian.session_factory"].begin() as session:
            for provider in providers.values():
                ensure_institution(session, OPERATOR, name=provider.institution,
                                   now=datetime.now(UTC))
        yield Federation(providers, app, f"http://127.0.0.1:{app_port}")


def test_login_shows_a_chooser_with_one_button_per_provider(federation: Federation) -> None:
    page = requests.get(f"{federation.base_url}/auth/login?next=/requests", timeout=10)
    assert page.status_code == 200
    assert "<title>Sign in · Custodian</title>" in page.text
    for name, label in LABELS.items():
        assert f'href="/auth/login/{name}?next=/requests">{label}</a>' in page.text


def test_same_subject_at_two_issuers_is_two_users(federation: Federation) -> None:
    seen = {}
    for name, provider in federation.providers.items():
        browser = requests.Session()
        landed = browser.get(federation.answer(browser, name), timeout=10)
        assert landed.url == f"{federation.base_url}/requests"
        me = browser.get(f"{federation.base_url}/api/v1/users/me", timeout=10).json()
        assert (me["issuer"], me["subject"]) == (provider.issuer, "alice")
        # Each provider's own claim setting: NIH's names the institution, ORCID's is off.
        assert me["institution"] == (provider.institution if name == "nih" else None)
        seen[name] = me["id"]
    assert seen["nih"] != seen["orcid"]
    with federation.app.extensions["custodian.session_factory"]() as session:
        users = session.scalars(select(User).where(User.subject == "alice")).all()
        logins = session.scalars(select(AuditEvent).where(AuditEvent.action == "auth:login")).all()
    assert {u.issuer for u in users} == {p.issuer for p in federation.providers.values()}
    assert [e.details["issuer"] for e in logins] == [
        federation.providers["nih"].issuer, federation.providers["orcid"].issuer]


def with_query(url: str, **changes: str | None) -> str:
    parts = urlsplit(url)
    query = {**dict(parse_qsl(parts.query)), **changes}
    kept = {key: value for key, value in query.items() if value is not None}
    return urlunsplit(parts._replace(query=urlencode(kept)))


def param(url: str, name: str) -> str:
    return dict(parse_qsl(urlsplit(url).query))[name]


# Each builds, from NIH's and ORCID's answers, what reaches the callback of a flow at ORCID.
MIXES: dict[str, tuple[Callable[[str, str], str], str]] = {
    "nih's whole answer": (lambda nih, orcid: nih, "IssuerMismatchError"),
    "orcid's code with the state minted for nih": (
        lambda nih, orcid: with_query(orcid, state=param(nih, "state")), "MismatchingStateError"),
    "orcid's answer naming nih as issuer": (
        lambda nih, orcid: with_query(orcid, iss=param(nih, "iss")), "IssuerMismatchError"),
    "orcid's answer without its issuer": (
        lambda nih, orcid: with_query(orcid, iss=None), "IssuerMismatchError"),
}


@pytest.fixture
def crossed(federation: Federation) -> tuple[requests.Session, str, str]:
    """One browser signed in at NIH, then at ORCID: its session now waits for ORCID."""
    browser = requests.Session()
    nih = federation.answer(browser, "nih")
    orcid = federation.answer(browser, "orcid")
    return browser, nih, orcid


@pytest.mark.parametrize("mix", sorted(MIXES))
def test_answer_is_accepted_only_from_the_provider_the_flow_began_at(
    federation: Federation, crossed: tuple[requests.Session, str, str], mix: str,
) -> None:
    browser, nih, orcid = crossed
    build, reason = MIXES[mix]
    response = browser.get(build(nih, orcid), timeout=10)
    assert response.status_code == 400, mix
    assert "Sign-in failed" in response.text
    assert browser.get(f"{federation.base_url}/api/v1/users/me", timeout=10).status_code == 401
    assert [e.details["reason"] for e in federation.failures()] == [reason]


def test_the_awaited_providers_own_answer_signs_in(
    federation: Federation, crossed: tuple[requests.Session, str, str],
) -> None:
    browser, _, orcid = crossed
    assert browser.get(orcid, timeout=10).url == f"{federation.base_url}/requests"
    me = browser.get(f"{federation.base_url}/api/v1/users/me", timeout=10).json()
    assert me["issuer"] == federation.providers["orcid"].issuer


def test_unknown_provider_is_a_404_page(federation: Federation) -> None:
    response = requests.get(f"{federation.base_url}/auth/login/keycloak", timeout=10)
    assert response.status_code == 404
    assert "No identity provider is called 'keycloak'" in html.unescape(response.text)
