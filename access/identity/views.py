"""Pages of sign-in: choose a provider, the OIDC callback, sign-out.

This file lists every page URL of identity; ``/api/v1/users/me`` is in api.py.
"""

from __future__ import annotations

import logging

import requests as http
from authlib.common.errors import AuthlibBaseError
from flask import Blueprint, current_app, redirect, render_template, request, session
from flask_login import login_user, logout_user
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from access.extensions import passport_verifier
from access.identity import oidc
from access.identity.actor import Actor
from access.identity.current_actor import SESSION_ID, current_actor, session_terms
from access.identity.sessions import end_all_sessions, end_session, start_session
from access.identity.sign_in import sign_in, sign_out
from access.passports.passport_grants import record_sign_in_visas
from access.passports.verify import PASSPORT_CLAIM
from audit.log.actions import AuditAction
from audit.log.append import record_refusal
from config import Settings
from config.identity import OidcProvider
from core.errors import NotFound
from core.web.error_handling import respond
from core.web.rate_limits import enforce
from core.web.request_scope import clock, db_session, session_factory
from core.web.security import safe_next_path

log = logging.getLogger(__name__)
pages = Blueprint("identity", __name__, template_folder="templates")


def _settings() -> Settings:
    settings: Settings = current_app.config["CUSTODIAN_SETTINGS"]
    return settings


@pages.get("/auth/login")
def login() -> Response | str:
    """With several providers the user picks one; with one, straight there."""
    enforce("sign_in")
    after = safe_next_path(request.args.get("next"))
    choices = oidc.providers()
    if len(choices) == 1:
        return _begin_sign_in(choices[0], after)
    return render_template("identity/sign_in_choice.html", providers=choices, after=after)


@pages.get("/auth/login/<name>")
def login_with(name: str) -> Response:
    enforce("sign_in")
    provider = oidc.provider_named(name)
    if provider is None:
        raise NotFound(f"No identity provider is called {name!r}.")
    return _begin_sign_in(provider, safe_next_path(request.args.get("next")))


def _begin_sign_in(provider: OidcProvider, after: str) -> Response:
    session["after_login"] = after
    try:
        return oidc.begin(provider, f"{_settings().public_url}/auth/callback")
    except oidc.ProviderUnavailableError as exc:
        log.warning("identity provider %r unavailable during login: %s", provider.name, exc)
        return respond(
            502,
            "idp_unreachable",
            "The identity provider could not be reached. Try again in a moment.",
        )


@pages.get("/auth/callback")
def callback() -> Response:
    enforce("sign_in")
    actor = current_actor()
    try:
        provider, issuer, claims = oidc.finish()
    except (
        AuthlibBaseError,
        JoseError,
        ValueError,
        KeyError,
        http.RequestException,
        oidc.ProviderUnavailableError,
    ) as exc:
        return _failed_sign_in(actor, exc)
    # Signing in from the catalogue's front page (or from nowhere) lands on "my work".
    after = safe_next_path(session.get("after_login"), default="/work")
    after = "/work" if after == "/" else after
    session.clear()  # a fresh session on sign-in: nothing from before carries over
    now = clock().now()
    user = sign_in(db_session(), actor, issuer=issuer, claims=claims, now=now,
                   institution_claim=provider.institution_claim)
    if PASSPORT_CLAIM in claims:
        record_sign_in_visas(
            db_session(),
            Actor(user=user, origin=actor.origin),
            claims[PASSPORT_CLAIM],
            now=now,
            verifier=passport_verifier(),
        )
    session[SESSION_ID] = start_session(db_session(), user, terms=session_terms(), now=now)
    login_user(user)
    return redirect(after)


def _failed_sign_in(actor: Actor, exc: Exception) -> Response:
    reason = type(exc).__name__
    # The type is enough to diagnose and never carries a token; messages might.
    log.warning("sign-in failed: %s", reason)
    session.clear()
    record_refusal(
        session_factory(),
        actor.audit(),
        AuditAction.LOGIN_FAILED,
        now=clock().now(),
        details={"reason": reason},
    )
    unreachable = isinstance(exc, http.RequestException | oidc.ProviderUnavailableError)
    return respond(
        502 if unreachable else 400,
        "sign_in_failed",
        "The identity provider could not be reached."
        if unreachable
        else "Sign-in failed: the answer from the identity provider could not be verified "
        f"({reason}). Please start again.",
    )


@pages.post("/auth/logout")
def logout() -> Response:
    """Ends this session on the server too: a copy of the cookie stops working."""
    actor = current_actor()
    now = clock().now()
    if actor.user is not None:
        sign_out(db_session(), actor, now)
    session_id = session.get(SESSION_ID)
    if isinstance(session_id, str):
        end_session(db_session(), session_id, now=now, reason="logout")
    logout_user()
    session.clear()
    return redirect("/")


@pages.post("/auth/logout-everywhere")
def logout_everywhere() -> Response:
    """Every browser the user is signed in on, this one included (a lost laptop)."""
    actor = current_actor()
    user = actor.require_user()
    end_all_sessions(db_session(), actor, user.id, now=clock().now(), reason="user")
    logout_user()
    session.clear()
    return redirect("/")
