"""Routes of the development identity provider: discovery, keys, sign-in, token, userinfo.

The views close over one provider, so the signing key is parsed when the blueprint is
built, never per request. They never commit: the app commits after a successful response.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Error
from flask import Blueprint, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from access.identity.devidp.provider import DevIdentityProvider
from access.identity.personas import DEMO_PERSONAS, PERSONAS_BY_USERNAME
from core.web.csrf import csrf_exempt
from core.web.rate_limits import count_failure, refuse_if_blocked

LOGIN_TEMPLATE = "devidp/login.html"
INVALID_BEARER_CHALLENGE = 'Bearer error="invalid_token"'


def register_views(blueprint: Blueprint, provider: DevIdentityProvider) -> None:
    """Closures, not module state: two apps (or two tests) each get their own provider."""

    @blueprint.before_request
    def _not_while_guessing() -> None:
        refuse_if_blocked("dev_idp")

    @blueprint.after_request
    def _count_refusals(response: Response) -> Response:
        """Unknown personas, bad client secrets, bad codes: what a guesser produces."""
        if response.status_code >= 400:
            count_failure("dev_idp")
        return response

    @blueprint.get("/.well-known/openid-configuration")
    def discovery() -> Response:
        return jsonify(provider.discovery_document())

    @blueprint.get("/jwks.json")
    def jwks() -> Response:
        return jsonify(provider.signer.public_jwks())

    @blueprint.route("/authorize", methods=["GET", "POST"])
    def authorize() -> ResponseReturnValue:
        return _authorize(provider)

    @blueprint.post("/token")
    @csrf_exempt
    def token() -> Response:
        return provider.token_response()

    @blueprint.route("/userinfo", methods=["GET", "POST"])
    @csrf_exempt
    def userinfo() -> Response:
        return _userinfo(provider)


def _authorize(provider: DevIdentityProvider) -> ResponseReturnValue:
    """GET shows the persona form; POST (back to the same URL) issues the code."""
    try:
        grant = provider.consent_grant()
    except OAuth2Error as error:
        return _refuse_authorization(provider, error)
    if request.method == "GET":
        return _login_page(grant)
    username = request.form.get("username", "").strip()
    persona = PERSONAS_BY_USERNAME.get(username)
    if persona is None:
        return _login_page(grant, error="Unknown persona: choose one of the demo personas.")
    return provider.authorization_response(grant, persona)


def _refuse_authorization(provider: DevIdentityProvider, error: OAuth2Error) -> ResponseReturnValue:
    """Redirect the error only to a redirect URI authlib verified; otherwise show it here."""
    if error.redirect_uri:
        return provider.error_response(error)
    message = f"This sign-in request was refused ({error.error}): {error.get_error_description()}"
    return _render(error=message, show_form=False, status=400)


def _login_page(grant: Any, error: str | None = None) -> ResponseReturnValue:
    status = 400 if error else 200
    return _render(error=error, show_form=True, status=status, client_id=grant.client.client_id)


def _render(
    *, error: str | None, show_form: bool, status: int, client_id: str | None = None
) -> ResponseReturnValue:
    page = render_template(
        LOGIN_TEMPLATE,
        personas=DEMO_PERSONAS,
        error=error,
        show_form=show_form,
        client_id=client_id,
    )
    return page, status, {"Cache-Control": "no-store"}


def _userinfo(provider: DevIdentityProvider) -> Response:
    claims = provider.signer.verify_access_token(_bearer_token())
    persona = PERSONAS_BY_USERNAME.get(str(claims.get("sub"))) if claims else None
    if persona is None:
        response = jsonify(error="invalid_token")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = INVALID_BEARER_CHALLENGE
        return _no_store(response)
    return _no_store(jsonify(provider.userinfo_claims(persona)))


def _bearer_token() -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response
