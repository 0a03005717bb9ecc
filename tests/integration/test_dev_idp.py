"""The development IdP, driven over HTTP the way the app's OIDC client drives it."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from joserfc.jwt import JWTClaimsRegistry
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from access.identity.devidp import DevIdpAuthorizationCode, create_dev_idp_blueprint
from config import Settings, load_settings
from core.clock import MovableClock
from core.db import Base, make_engine, make_session_factory
from core.web import csrf, error_handling, rate_limits, request_scope, site
from tests.data_keys import keyed

PUBLIC_URL = "http://127.0.0.1:5999"
ISSUER = f"{PUBLIC_URL}/dev-idp"
REDIRECT_URI = f"{PUBLIC_URL}/auth/callback"
CLIENT_ID = "custodian"


@dataclass
class Harness:
    client: FlaskClient
    clock: MovableClock
    engine: Engine
    settings: Settings

    def pending_codes(self) -> int:
        with Session(self.engine) as session:
            return session.scalar(select(func.count()).select_from(DevIdpAuthorizationCode)) or 0


@pytest.fixture
def harness(tmp_path: Path, fresh_database_url: str) -> Iterator[Harness]:
    settings = load_settings(
        environ={},
        overrides={"ENV": "demo", "INSTANCE_DIR": str(tmp_path), "PUBLIC_URL": PUBLIC_URL},
    )
    engine = keyed(make_engine(fresh_database_url))
    Base.metadata.create_all(engine)
    clock = MovableClock()
    app = Flask(__name__)
    app.secret_key = settings.secret_key
    request_scope.install(app, make_session_factory(engine), clock)
    csrf.install(app, lambda: False)
    error_handling.install(app, lambda note: None)  # no audit log in this harness
    rate_limits.install(app, enabled=True, storage_uri="memory://", limits=settings.rate_limits)
    app.register_blueprint(site.blueprint())  # the page layout the IdP's page extends
    app.register_blueprint(create_dev_idp_blueprint(settings), url_prefix="/dev-idp")

    @app.after_request
    def _commit(response: Response) -> Response:
        if response.status_code < 400:
            request_scope.commit_if_open()
        return response

    yield Harness(app.test_client(), clock, engine, settings)
    engine.dispose()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_params(challenge: str | None, **overrides: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid email profile",
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
    }
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(overrides)
    return params


def csrf_from(page: TestResponse) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found, "the login form carries no CSRF token"
    return found.group(1)


def sign_in(
    client: FlaskClient, params: dict[str, str], username: str = "researcher"
) -> TestResponse:
    page = client.get("/dev-idp/authorize", query_string=params)
    assert page.status_code == 200
    form = {"csrf_token": csrf_from(page), "username": username}
    return client.post("/dev-idp/authorize", query_string=params, data=form)


def redirect_params(response: TestResponse) -> dict[str, str]:
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def issue_code(harness: Harness, params: dict[str, str]) -> str:
    returned = redirect_params(sign_in(harness.client, params))
    assert returned["state"] == params["state"]
    return returned["code"]


def exchange(
    harness: Harness, code: str, verifier: str, secret: str | None = None, auth: str = "basic"
) -> TestResponse:
    secret = harness.settings.dev_idp_client_secret if secret is None else secret
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    headers = {}
    if auth == "basic":
        credentials = base64.b64encode(f"{CLIENT_ID}:{secret}".encode()).decode()
        headers["Authorization"] = f"Basic {credentials}"
    else:
        form.update(client_id=CLIENT_ID, client_secret=secret)
    return harness.client.post("/dev-idp/token", data=form, headers=headers)


def full_flow(harness: Harness, auth: str = "basic") -> tuple[dict[str, str], dict[str, Any]]:
    verifier, challenge = pkce_pair()
    params = authorize_params(challenge)
    response = exchange(harness, issue_code(harness, params), verifier, auth=auth)
    assert response.status_code == 200, response.get_data(as_text=True)
    return params, response.get_json()


def userinfo(harness: Harness, token: str) -> TestResponse:
    return harness.client.get("/dev-idp/userinfo", headers={"Authorization": f"Bearer {token}"})


def test_discovery_document_and_jwks_verify_an_id_token(harness: Harness) -> None:
    document = harness.client.get("/dev-idp/.well-known/openid-configuration").get_json()
    assert document["issuer"] == ISSUER == harness.settings.dev_idp_issuer
    assert document["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert document["token_endpoint"] == f"{ISSUER}/token"
    assert document["userinfo_endpoint"] == f"{ISSUER}/userinfo"
    assert document["jwks_uri"] == f"{ISSUER}/jwks.json"
    assert document["response_types_supported"] == ["code"]
    assert document["subject_types_supported"] == ["public"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert set(document["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    assert "openid" in document["scopes_supported"]
    assert {"sub", "email", "name", "institution"} <= set(document["claims_supported"])

    jwks = harness.client.get(document["jwks_uri"].removeprefix(PUBLIC_URL)).get_json()
    (jwk,) = jwks["keys"]
    assert (jwk["kty"], jwk["use"], jwk["alg"]) == ("RSA", "sig", "RS256")
    assert "d" not in jwk
    assert jwk["kid"] == RSAKey.import_key(jwk).thumbprint()

    params, tokens = full_flow(harness)
    decoded = jwt.decode(tokens["id_token"], KeySet.import_key_set(jwks), algorithms=["RS256"])
    assert decoded.header["kid"] == jwk["kid"]
    JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": CLIENT_ID},
        nonce={"essential": True, "value": params["nonce"]},
        exp={"essential": True},
        iat={"essential": True},
        auth_time={"essential": True},
    ).validate(decoded.claims)
    assert decoded.claims["exp"] - decoded.claims["iat"] == 3600


@pytest.mark.parametrize("auth", ["basic", "post"])
def test_code_flow_with_pkce_signs_in_researcher(harness: Harness, auth: str) -> None:
    _, tokens = full_flow(harness, auth=auth)
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600
    claims = jwt.decode(
        tokens["id_token"],
        RSAKey.import_key(harness.settings.dev_idp_private_key_pem),
        algorithms=["RS256"],
    ).claims
    assert claims["sub"] == "researcher"
    assert (claims["email"], claims["email_verified"]) == ("researcher@demo.example", True)
    assert claims["name"] == "Riley Researcher"
    assert harness.pending_codes() == 0

    info = userinfo(harness, tokens["access_token"])
    assert info.status_code == 200
    assert info.get_json() == {
        "sub": "researcher",
        "email": "researcher@demo.example",
        "email_verified": True,
        "name": "Riley Researcher",
        "institution": "Demo University",
    }


@pytest.mark.parametrize(
    ("send_challenge", "method"),
    [(False, None), (True, "plain"), (True, None)],
    ids=["no-challenge", "plain-method", "no-method"],
)
def test_authorization_without_s256_pkce_is_refused(
    harness: Harness, send_challenge: bool, method: str | None
) -> None:
    _, challenge = pkce_pair()
    params = authorize_params(None)
    if send_challenge:
        params["code_challenge"] = challenge
    if method is not None:
        params["code_challenge_method"] = method
    returned = redirect_params(harness.client.get("/dev-idp/authorize", query_string=params))
    assert returned["error"] == "invalid_request"
    assert returned["state"] == params["state"]
    assert "code" not in returned

    # Posting the form straight away, skipping the GET, is refused the same way.
    form_page = harness.client.get("/dev-idp/authorize", query_string=authorize_params(challenge))
    form = {"csrf_token": csrf_from(form_page), "username": "researcher"}
    posted = harness.client.post("/dev-idp/authorize", query_string=params, data=form)
    assert "code" not in redirect_params(posted)
    assert harness.pending_codes() == 0


def test_wrong_code_verifier_is_refused(harness: Harness) -> None:
    _, challenge = pkce_pair()
    code = issue_code(harness, authorize_params(challenge))
    other_verifier, _ = pkce_pair()
    response = exchange(harness, code, other_verifier)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"
    assert "access_token" not in response.get_json()


def test_code_is_single_use(harness: Harness) -> None:
    verifier, challenge = pkce_pair()
    code = issue_code(harness, authorize_params(challenge))
    assert exchange(harness, code, verifier).status_code == 200
    again = exchange(harness, code, verifier)
    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_grant"


@pytest.mark.parametrize("auth", ["basic", "post"])
def test_wrong_client_secret_is_refused(harness: Harness, auth: str) -> None:
    verifier, challenge = pkce_pair()
    code = issue_code(harness, authorize_params(challenge))
    response = exchange(harness, code, verifier, secret="not-the-secret", auth=auth)
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert "access_token" not in response.get_json()
    # A failed client authentication must not burn the code for the real client.
    assert exchange(harness, code, verifier, auth=auth).status_code == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"redirect_uri": "https://evil.example/auth/callback"},
        {"redirect_uri": REDIRECT_URI + "/../steal"},
        {"client_id": "someone-else"},
    ],
    ids=["foreign-host", "path-variant", "unknown-client"],
)
def test_bad_client_or_redirect_uri_is_never_redirected_to(
    harness: Harness, overrides: dict[str, str]
) -> None:
    _, challenge = pkce_pair()
    params = authorize_params(challenge, **overrides)
    page = harness.client.get("/dev-idp/authorize", query_string=params)
    assert page.status_code == 400
    assert "Location" not in page.headers
    assert "refused" in page.get_data(as_text=True)

    form = {
        "csrf_token": csrf_from(
            harness.client.get("/dev-idp/authorize", query_string=authorize_params(challenge))
        ),
        "username": "researcher",
    }
    posted = harness.client.post("/dev-idp/authorize", query_string=params, data=form)
    assert posted.status_code == 400
    assert "Location" not in posted.headers
    assert harness.pending_codes() == 0


def test_unknown_username_gets_400_and_no_code(harness: Harness) -> None:
    _, challenge = pkce_pair()
    response = sign_in(harness.client, authorize_params(challenge), username="mallory")
    assert response.status_code == 400
    assert "Location" not in response.headers
    page = response.get_data(as_text=True)
    assert "Unknown persona" in page
    assert 'name="username"' in page
    assert harness.pending_codes() == 0


def test_expired_code_is_refused(harness: Harness) -> None:
    verifier, challenge = pkce_pair()
    code = issue_code(harness, authorize_params(challenge))
    harness.clock.advance(timedelta(minutes=10))
    response = exchange(harness, code, verifier)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_login_page_lists_personas_and_says_demo_only(harness: Harness) -> None:
    _, challenge = pkce_pair()
    page = harness.client.get("/dev-idp/authorize", query_string=authorize_params(challenge))
    html = page.get_data(as_text=True)
    assert "Development identity provider — demo only" in html
    assert 'method="post"' in html
    for username in ("researcher", "dac-chair", "admin"):
        assert f'value="{username}"' in html
    assert "a researcher who requests and downloads data" in html


def test_login_post_without_csrf_token_is_refused(harness: Harness) -> None:
    _, challenge = pkce_pair()
    params = authorize_params(challenge)
    assert harness.client.get("/dev-idp/authorize", query_string=params).status_code == 200
    response = harness.client.post(
        "/dev-idp/authorize", query_string=params, data={"username": "researcher"}
    )
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert harness.pending_codes() == 0


def test_userinfo_refuses_an_id_token(harness: Harness) -> None:
    _, tokens = full_flow(harness)
    response = userinfo(harness, tokens["id_token"])
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_userinfo_refuses_a_tampered_or_missing_token(harness: Harness) -> None:
    _, tokens = full_flow(harness)
    header, payload, signature = tokens["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = userinfo(harness, f"{header}.{forged}.{signature}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'

    assert harness.client.get("/dev-idp/userinfo").status_code == 401
    assert userinfo(harness, tokens["access_token"]).status_code == 200
