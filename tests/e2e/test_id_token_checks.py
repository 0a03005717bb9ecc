"""A hostile OIDC provider: every way an ID token can be wrong must stop the sign-in.

The provider here is a small real HTTP server whose token endpoint can be told to sign
with another key, claim another issuer or audience (or name another authorized party),
send an expired token or a wrong nonce.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from access.identity.models import User
from app import create_app
from audit.log.actions import AuditAction, Outcome
from audit.log.models import AuditEvent
from config import load_settings
from tests.ports import reserve_port, wsgi_server

CLIENT_ID = "custodian-test"
CLIENT_SECRET = "a-client-secret-for-tests"


@dataclass
class HostileProvider:
    base_url: str
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, auto_kid=True))
    mode: str = "honest"
    nonces: dict[str, str] = field(default_factory=dict)

    def id_token(self, code: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.base_url, "sub": "alice", "aud": CLIENT_ID, "iat": now,
            "exp": now + 300, "nonce": self.nonces[code], "email": "alice@example.org",
        }
        key = self.key
        if self.mode == "wrong_key":
            # Same kid as the published key, so only the signature check can catch it.
            key = RSAKey.generate_key(2048, parameters={"kid": str(self.key.kid)})
        elif self.mode == "wrong_issuer":
            claims["iss"] = "https://evil.example"
        elif self.mode == "wrong_audience":
            claims["aud"] = "another-client"
        elif self.mode == "audience_elsewhere_azp_us":
            # authlib alone accepts this one: it looks for us in azp, never in aud.
            claims["aud"], claims["azp"] = "another-client", CLIENT_ID
        elif self.mode == "several_audiences_without_azp":
            claims["aud"] = [CLIENT_ID, "another-client"]
        elif self.mode == "azp_another_client":
            claims["azp"] = "another-client"
        elif self.mode == "several_audiences_azp_us":
            claims["aud"], claims["azp"] = ["another-client", CLIENT_ID], CLIENT_ID
        elif self.mode == "audience_list_of_us":
            claims["aud"] = [CLIENT_ID]
        elif self.mode == "expired":
            claims["iat"], claims["exp"] = now - 7200, now - 3600
        elif self.mode == "wrong_nonce":
            claims["nonce"] = "not-the-nonce"
        elif self.mode == "no_exp":
            del claims["exp"]
        header = {"alg": "RS256", "kid": self.key.kid}
        if self.mode == "alg_none":
            return ".".join((_b64({"alg": "none", "typ": "JWT"}), _b64(claims), ""))
        return jwt.encode(header, claims, key)


def _b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def provider_app(provider: HostileProvider) -> Flask:
    app = Flask("hostile")

    @app.get("/.well-known/openid-configuration")
    def discovery() -> Response:
        base = provider.base_url
        return jsonify({
            "issuer": base, "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token", "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks", "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
        })

    @app.get("/jwks")
    def jwks() -> Response:
        return jsonify({"keys": [provider.key.as_dict(private=False)]})

    @app.get("/authorize")
    def authorize() -> Response:
        code = secrets.token_urlsafe(8)
        provider.nonces[code] = request.args["nonce"]
        target = f"{request.args['redirect_uri']}?" + urlencode(
            {"code": code, "state": request.args["state"]})
        return redirect(target)

    @app.post("/token")
    def token() -> Response:
        code = request.form["code"]
        return jsonify({"access_token": "at-" + code, "token_type": "Bearer",
                        "expires_in": 300, "id_token": provider.id_token(code)})

    @app.get("/userinfo")
    def userinfo() -> Response:
        return jsonify({"sub": "alice", "email": "alice@example.org"})

    return app


@pytest.fixture
def hostile_service(tmp_path: Path, fresh_database_url: str
                    ) -> Iterator[tuple[HostileProvider, str, Flask]]:
    idp_port, app_port = reserve_port(), reserve_port()
    provider = HostileProvider(f"http://127.0.0.1:{idp_port}")
    settings = load_settings(environ={}, overrides={
        "ENV": "demo", "DEV_IDP": "false", "INSTANCE_DIR": str(tmp_path),
        "DATABASE_URL": fresh_database_url,
        "PUBLIC_URL": f"http://127.0.0.1:{app_port}",
        "OIDC_DISCOVERY_URL": f"{provider.base_url}/.well-known/openid-configuration",
        "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET,
    })
    service = create_app(settings)
    from core.migrations import upgrade

    upgrade(service.extensions["custodian.engine"])
    servers = [wsgi_server(provider_app(provider), idp_port), wsgi_server(service, app_port)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    yield provider, settings.public_url, service
    for server in servers:
        server.shutdown()
        server.server_close()
    service.extensions["custodian.engine"].dispose()


@pytest.fixture
def hostile(hostile_service: tuple[HostileProvider, str, Flask]
            ) -> tuple[HostileProvider, str]:
    return hostile_service[0], hostile_service[1]


def sign_in_against(base: str) -> tuple[requests.Session, requests.Response]:
    browser = requests.Session()
    landed = browser.get(f"{base}/auth/login?next=/requests", timeout=10)
    return browser, landed


def test_honest_provider_signs_in(hostile: tuple[HostileProvider, str]) -> None:
    _, base = hostile
    browser, landed = sign_in_against(base)
    assert landed.status_code == 200 and landed.url == f"{base}/requests"
    me = browser.get(f"{base}/api/v1/users/me", timeout=10).json()
    assert me["subject"] == "alice"


@pytest.mark.parametrize("mode", ["several_audiences_azp_us", "audience_list_of_us"])
def test_a_token_for_us_among_others_or_as_a_list_signs_in(
    hostile: tuple[HostileProvider, str], mode: str
) -> None:
    provider, base = hostile
    provider.mode = mode
    browser, landed = sign_in_against(base)
    assert landed.status_code == 200 and landed.url == f"{base}/requests"
    assert browser.get(f"{base}/api/v1/users/me", timeout=10).json()["subject"] == "alice"


@pytest.mark.parametrize("mode", ["wrong_key", "wrong_issuer", "wrong_audience", "expired",
                                  "wrong_nonce", "no_exp", "alg_none",
                                  "audience_elsewhere_azp_us", "several_audiences_without_azp",
                                  "azp_another_client"])
def test_bad_id_token_is_refused_without_a_session(
    hostile: tuple[HostileProvider, str], mode: str
) -> None:
    provider, base = hostile
    provider.mode = mode
    browser, landed = sign_in_against(base)
    assert landed.status_code == 400, mode
    assert "Sign-in failed" in landed.text
    assert browser.get(f"{base}/api/v1/users/me", timeout=10).status_code == 401


def test_a_token_for_another_client_naming_us_in_azp_is_refused_and_audited(
    hostile_service: tuple[HostileProvider, str, Flask]
) -> None:
    provider, base, service = hostile_service
    provider.mode = "audience_elsewhere_azp_us"
    _, landed = sign_in_against(base)
    assert landed.status_code == 400
    with service.extensions["custodian.session_factory"]() as session:
        refused = session.scalars(select(AuditEvent).where(
            AuditEvent.action == AuditAction.LOGIN_FAILED.value)).all()
        signed_in = session.scalar(select(func.count()).select_from(User))
    assert [event.details["reason"] for event in refused] == ["AudienceMismatchError"]
    assert [event.outcome for event in refused] == [Outcome.DENIED.value]
    assert signed_in == 0  # no account was made from the token
