"""Pages of the access package: sign-in, requests, the review queue, API tokens.

This file lists every page URL of the package; the JSON API is in api.py.
"""

from __future__ import annotations

import logging
from typing import Any

import requests as http
from authlib.common.errors import AuthlibBaseError
from flask import Blueprint, current_app, flash, redirect, render_template, request, session
from flask_login import login_user, logout_user
from joserfc.errors import JoseError
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from access import access_requests as requests_uc
from access import oidc
from access.api import ACTIONS, dataset_directory
from access.identity import Actor
from access.passport_api import passport_verifier
from access.passport_verify import PASSPORT_CLAIM
from access.passports import record_sign_in_visas
from access.schemas import RequestIn, TokenIn
from access.sign_in import sign_in, sign_out
from access.tokens import IssuedToken, create_api_token, list_api_tokens, revoke_api_token
from access.web import current_actor
from access.workflow import RequestAction, RequestState, allowed_actions
from audit.actions import AuditAction
from audit.services import record_refusal
from config import Settings
from config.settings import OidcProvider
from core.error_handling import respond
from core.errors import InvalidInput, NotFound
from core.request_scope import clock, db_session, session_factory
from core.scopes import DEFAULT_SCOPES, SCOPE_MEANINGS
from core.security import safe_next_path

log = logging.getLogger(__name__)
pages = Blueprint("access", __name__, template_folder="templates")


def _settings() -> Settings:
    settings: Settings = current_app.config["CUSTODIAN_SETTINGS"]
    return settings


@pages.get("/auth/login")
def login() -> Response | str:
    """With several providers the user picks one; with one, straight there."""
    after = safe_next_path(request.args.get("next"))
    choices = oidc.providers()
    if len(choices) == 1:
        return _begin_sign_in(choices[0], after)
    return render_template("access/sign_in_choice.html", providers=choices, after=after)


@pages.get("/auth/login/<name>")
def login_with(name: str) -> Response:
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
        return respond(502, "idp_unreachable",
                       "The identity provider could not be reached. Try again in a moment.")


@pages.get("/auth/callback")
def callback() -> Response:
    actor = current_actor()
    try:
        issuer, claims = oidc.finish()
    except (AuthlibBaseError, JoseError, ValueError, KeyError, http.RequestException,
            oidc.ProviderUnavailableError) as exc:
        return _failed_sign_in(actor, exc)
    after = safe_next_path(session.get("after_login"))
    session.clear()  # a fresh session on sign-in: nothing from before carries over
    now = clock().now()
    user = sign_in(db_session(), actor, issuer=issuer, claims=claims, now=now)
    if PASSPORT_CLAIM in claims:
        record_sign_in_visas(db_session(), Actor(user=user, origin=actor.origin),
                             claims[PASSPORT_CLAIM], now=now, verifier=passport_verifier())
    login_user(user)
    return redirect(after)


def _failed_sign_in(actor: Actor, exc: Exception) -> Response:
    reason = type(exc).__name__
    # The type is enough to diagnose and never carries a token; messages might.
    log.warning("sign-in failed: %s", reason)
    session.clear()
    record_refusal(session_factory(), actor.audit(), AuditAction.LOGIN_FAILED,
                   now=clock().now(), details={"reason": reason})
    unreachable = isinstance(exc, http.RequestException | oidc.ProviderUnavailableError)
    return respond(
        502 if unreachable else 400,
        "sign_in_failed",
        "The identity provider could not be reached." if unreachable else
        "Sign-in failed: the answer from the identity provider could not be verified "
        f"({reason}). Please start again.",
    )


@pages.post("/auth/logout")
def logout() -> Response:
    actor = current_actor()
    if actor.user is not None:
        sign_out(db_session(), actor, clock().now())
    logout_user()
    session.clear()
    return redirect("/")


@pages.get("/requests")
def my_requests() -> str:
    actor = current_actor()
    return render_template(
        "access/requests.html",
        filed=requests_uc.requests_filed_by(db_session(), actor),
        queue=requests_uc.review_queue(db_session(), actor),
    )


@pages.route("/requests/new", methods=["GET", "POST"])
def new_request() -> Response | tuple[str, int] | str:
    actor = current_actor()
    actor.require_user()
    choices = dataset_directory().requestable(db_session())
    form: dict[str, Any] = {"title": "", "research_use_statement": "",
                            "dataset_ids": [int(i) for i in request.args.getlist("dataset")
                                            if i.isdigit()]}
    if request.method == "GET":
        return render_template("access/request_new.html", choices=choices, form=form, errors={})
    form = {
        "title": request.form.get("title", ""),
        "research_use_statement": request.form.get("research_use_statement", ""),
        "dataset_ids": [int(i) for i in request.form.getlist("dataset_ids") if i.isdigit()],
    }
    try:
        data = RequestIn().load(form)
    except ValidationError as exc:
        return render_template("access/request_new.html", choices=choices, form=form,
                               errors=exc.messages), 400
    created = requests_uc.create_request(
        db_session(), actor, directory=dataset_directory(), now=clock().now(), **data
    )
    flash("Request saved as a draft. Submit it when it is ready.", "success")
    return redirect(f"/requests/{created.id}")


@pages.get("/requests/<int:request_id>")
def show_request(request_id: int) -> str:
    actor = current_actor()
    found = requests_uc.get_visible_request(db_session(), actor, request_id)
    actions = [action for action in allowed_actions(RequestState(found.state))
               if requests_uc.can_act(db_session(), actor, found, action)]
    datasets = dataset_directory().lookup(db_session(), [d.dataset_id for d in found.datasets])
    return render_template("access/request_detail.html", req=found, actions=actions,
                           datasets=datasets)


@pages.post("/requests/<int:request_id>/<action>")
def act_on_request(request_id: int, action: str) -> Response:
    if action not in ACTIONS:
        raise NotFound(f"Unknown action {action!r}.")
    schema, handler = ACTIONS[action]
    form: dict[str, object] = {k: v for k, v in request.form.items() if k != "csrf_token"}
    days = request.form.get("days", "")
    if days.isdigit():
        form["days"] = int(days)  # HTML forms send text; the schema wants a strict integer
    try:
        data = schema.load(form)
    except ValidationError as exc:
        flash(f"Not done: {_first_message(exc.messages)}", "error")
        return redirect(f"/requests/{request_id}")
    moved = handler(current_actor(), request_id, data)
    flash(f"Request {RequestAction(action).value}: it is now {moved.state}.", "success")
    return redirect(f"/requests/{request_id}")


def _first_message(messages: Any) -> str:
    if isinstance(messages, dict):
        field, problems = next(iter(messages.items()))
        return f"{field}: {problems[0] if isinstance(problems, list) else problems}"
    return str(messages)


@pages.route("/tokens", methods=["GET", "POST"])
def tokens() -> tuple[str, int] | str:
    """Create (the secret is shown on this one answer only), list and revoke tokens."""
    actor = current_actor()
    actor.require_user()
    settings = _settings()
    issued = None
    form: dict[str, Any] = {"name": "", "days": str(settings.api_token_days),
                            "scopes": sorted(DEFAULT_SCOPES)}
    if request.method == "POST":
        days = request.form.get("days", "").strip()
        form = {"name": request.form.get("name", ""), "days": days,
                "scopes": request.form.getlist("scopes")}
        try:
            # HTML forms send text; the schema wants a strict integer (or nothing).
            data = TokenIn().load({"name": form["name"] or "API token",
                                   "days": int(days) if days.isdigit() else days or None,
                                   "scopes": form["scopes"]})
        except ValidationError as exc:
            return _tokens_page(actor, form, None, exc.messages), 400
        try:
            issued = create_api_token(
                db_session(), actor, name=data["name"], days=data["days"],
                max_days=settings.api_token_max_days, now=clock().now(),
                scopes=data["scopes"], default_days=settings.api_token_days,
            )
        except InvalidInput as exc:
            return _tokens_page(actor, form, None, {"days": [exc.message]}), 400
        form = {"name": "", "days": str(settings.api_token_days),
                "scopes": sorted(DEFAULT_SCOPES)}
    return _tokens_page(actor, form, issued, {})


def _tokens_page(actor: Actor, form: dict[str, Any], issued: IssuedToken | None,
                 errors: Any) -> str:
    flat = {field: [_first_message({field: problems})] for field, problems in
            (errors.items() if isinstance(errors, dict) else [("name", errors)])}
    return render_template(
        "access/tokens.html", issued=issued, form=form, errors=flat,
        scopes=SCOPE_MEANINGS, max_days=_settings().api_token_max_days,
        tokens=list_api_tokens(db_session(), actor), now=clock().now(),
    )


@pages.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int) -> Response:
    revoked = revoke_api_token(db_session(), current_actor(), token_id, clock().now())
    flash(f"Token {revoked.name!r} revoked: it no longer works.", "success")
    return redirect("/tokens")
