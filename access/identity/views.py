"""Pages of sign-in (choose a provider, the OIDC callback, sign-out) and the admins' pages
of institutions.

This file lists every page URL of identity; ``/api/v1/users/me`` is in api.py.
"""

from __future__ import annotations

import logging
from typing import Any

import requests as http
from authlib.common.errors import AuthlibBaseError
from flask import Blueprint, current_app, flash, redirect, render_template, request, session
from flask_login import login_user, logout_user
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from access.extensions import passport_verifier
from access.identity import institutions, oidc, users
from access.identity.actor import Actor
from access.identity.current_actor import SESSION_ID, current_actor, session_terms
from access.identity.sessions import end_all_sessions, end_session, start_session
from access.identity.sign_in import sign_in, sign_out
from access.passports.passport_grants import record_sign_in_visas
from access.passports.verify import PASSPORT_CLAIM
from access.requests.admin_list import stuck_requests
from access.roles import require_admin
from access.schemas import InstitutionIn, InstitutionUpdateIn, UserUpdateIn
from audit.log.actions import AuditAction
from audit.log.append import record_refusal
from config import Settings
from config.identity import OidcProvider
from core.errors import NotFound
from core.web.error_handling import respond
from core.web.forms import chosen_id, done_or_flash, load_or_flash
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


# --- admin pages: a user's institution, and the institutions -----------------------------


@pages.post("/admin/users/<int:user_id>/institution")
def admin_set_institution(user_id: int) -> Response:
    """The admin's setting, which outranks what sign-ins say; "" hands it back to them."""
    require_admin(current_actor(), "user_update")  # before the form is read
    data = load_or_flash(
        UserUpdateIn(), {"institution_id": chosen_id(request.form.get("institution_id"))}
    )
    if data is not None and done_or_flash(lambda: institutions.set_user_institution(
        db_session(), current_actor(), user_id, data["institution_id"], now=clock().now()
    )) is not None:
        flash("Institution set." if data["institution_id"] else
              "Institution cleared: the next sign-in decides it.", "success")
    return redirect("/admin/users")


@pages.get("/admin/institutions")
def admin_institutions() -> str:
    actor = current_actor()
    require_admin(actor, "institution_list")
    session = db_session()
    listed = institutions.list_institutions(session)
    officials: dict[int, list[str]] = {i.id: [] for i in listed}
    for user in users.list_users(session):
        for assignment in user.roles:
            if assignment.institution_id in officials:
                officials[assignment.institution_id].append(user.display_name)
    return render_template(
        "identity/admin_institutions.html",
        institutions=listed,
        officials=officials,
        held=stuck_requests(session, actor),
    )


@pages.post("/admin/institutions")
def admin_create_institution() -> Response:
    require_admin(current_actor(), "institution_create")  # before the form is read
    data = load_or_flash(InstitutionIn(), _institution_form(request.form))
    if data is not None and done_or_flash(lambda: institutions.create_institution(
        db_session(), current_actor(), now=clock().now(), **data
    )) is not None:
        flash(f"Institution {data['name']} created.", "success")
    return redirect("/admin/institutions")


@pages.post("/admin/institutions/<int:institution_id>")
def admin_update_institution(institution_id: int) -> Response:
    require_admin(current_actor(), "institution_update")  # before the form is read
    data = load_or_flash(InstitutionUpdateIn(), _institution_form(request.form))
    if data is not None and done_or_flash(lambda: institutions.update_institution(
        db_session(), current_actor(), institution_id, changes=data, now=clock().now()
    )) is not None:
        flash("Institution saved.", "success")
    return redirect("/admin/institutions")


def _institution_form(form: Any) -> dict[str, Any]:
    """Blank ROR id: none; domains separated by commas, spaces or lines."""
    data: dict[str, Any] = {}
    if "name" in form:
        data["name"] = form["name"].strip()
    if "ror_id" in form:
        data["ror_id"] = form["ror_id"].strip() or None
    if "email_domains" in form:
        data["email_domains"] = form["email_domains"].replace(",", " ").split()
    return data
