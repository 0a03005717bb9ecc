"""Pages of the access package: sign-in, requests for every role, committee queues, the
admin pages for committees and roles, API tokens.

This file lists every page URL of the package; the JSON API is in api.py.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import requests as http
from authlib.common.errors import AuthlibBaseError
from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
)
from flask_login import login_user, logout_user
from joserfc.errors import JoseError
from marshmallow import Schema, ValidationError
from werkzeug.wrappers import Response

from access import access_requests as requests_uc
from access import admin as admin_uc
from access import oidc
from access import review as review_uc
from access.api import ACTIONS, CREATES, dataset_directory
from access.duo_match import ResearchPurpose, match_request
from access.forms import action_form, request_form, shown
from access.identity import Actor
from access.models import Role
from access.passport_api import passport_verifier
from access.passport_verify import PASSPORT_CLAIM
from access.passports import record_sign_in_visas
from access.request_detail import describe_request, request_timeline
from access.schemas import (
    QUEUE_STATES,
    CommitteeIn,
    CommitteeQueueQuery,
    CommitteeUpdateIn,
    MemberIn,
    RequestIn,
    RoleIn,
    TokenIn,
)
from access.sign_in import sign_in, sign_out
from access.tokens import IssuedToken, create_api_token, list_api_tokens, revoke_api_token
from access.web import current_actor
from access.workflow import RequestAction
from audit.log.actions import AuditAction
from audit.log.append import record_refusal
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
    session, now = db_session(), clock().now()
    user = actor.require_user()
    return render_template(
        "access/requests.html",
        filed=requests_uc.requests_filed_by(session, actor, now),
        shared=requests_uc.requests_shared_with(session, actor, now),
        endorse=requests_uc.endorsement_queue(session, actor),
        queue=requests_uc.review_queue(session, actor),
        committees=[c for c in admin_uc.list_committees(session)
                    if c.id in requests_uc.committee_ids_of(session, user.id)],
    )


@pages.route("/requests/new", methods=["GET", "POST"])
def new_request() -> Response | tuple[str, int] | str:
    actor = current_actor()
    actor.require_user()
    choices = dataset_directory().requestable(db_session())
    if request.method == "GET":
        wanted = [int(i) for i in request.args.getlist("dataset") if i.isdigit()]
        return render_template("access/request_new.html", choices=choices,
                               form={"dataset_ids": wanted}, errors={})
    form = request_form(request.form, with_datasets=True)
    try:
        data = RequestIn().load(form)
    except ValidationError as exc:
        return render_template("access/request_new.html", choices=choices,
                               form=shown(form), errors=exc.messages), 400
    created = requests_uc.create_request(
        db_session(), actor, directory=dataset_directory(), now=clock().now(), **data
    )
    flash("Request saved as a draft. Submit it when it is ready.", "success")
    return redirect(f"/requests/{created.id}")


@pages.get("/requests/<int:request_id>")
def show_request(request_id: int) -> str:
    actor = current_actor()
    session = db_session()
    found = requests_uc.get_visible_request(session, actor, request_id, clock().now())
    dataset_ids = [d.dataset_id for d in found.datasets]
    datasets = dataset_directory().lookup(session, dataset_ids)
    described = describe_request(session, actor, found)
    # Reviewers (those who see the votes) get the data-use match: a recommendation only.
    matches = None if described["votes"] is None else match_request(
        dataset_directory().data_use(session, dataset_ids), ResearchPurpose.of(found))
    return render_template(
        "access/request_detail.html", req=found, datasets=datasets, matches=matches,
        timeline=request_timeline(session, found.id), **described,
        open_questions=[q for q in requests_uc.current_questions(session, found)
                        if found.state == "returned"],
        committee_days={c.id: c.default_approval_days for c in admin_uc.list_committees(session)},
    )


@pages.get("/requests/<int:request_id>/edit")
def edit_request(request_id: int) -> str:
    actor = current_actor()
    found = requests_uc.get_visible_request(db_session(), actor, request_id, clock().now())
    return render_template("access/request_edit.html", req=found, form=found, errors={})


@pages.post("/requests/<int:request_id>/<action>")
def act_on_request(request_id: int, action: str) -> Response:
    if action not in ACTIONS:
        raise NotFound(f"Unknown action {action!r}.")
    schema, handler = ACTIONS[action]
    try:
        data = schema.load(action_form(action, request.form))
    except ValidationError as exc:
        flash(f"Not done: {_first_message(exc.messages)}", "error")
        return redirect(f"/requests/{request_id}")
    moved = handler(current_actor(), request_id, data)
    if action in CREATES:
        flash(f"Renewal request {moved.id} drafted from request {request_id}.", "success")
        return redirect(f"/requests/{moved.id}")
    flash(f"Done ({RequestAction(action).value}): the request is now {moved.state}.", "success")
    return redirect(f"/requests/{request_id}")


@pages.get("/committees/<int:committee_id>/queue")
def committee_queue(committee_id: int) -> str:
    actor = current_actor()
    session = db_session()
    try:
        query = CommitteeQueueQuery().load(
            {k: v for k, v in request.args.items() if v != ""})
    except ValidationError as exc:
        raise InvalidInput("Some filters are invalid.",
                           details={"filters": exc.messages}) from None
    found = review_uc.committee_queue(
        session, actor, committee_id, states=query.get("state") or review_uc.REVIEW_STATES,
        dataset_id=query.get("dataset_id"), submitted_from=query.get("submitted_from"),
        submitted_to=query.get("submitted_to"), now=clock().now())
    return render_template("access/committee_queue.html",
                           committee=admin_uc.get_committee(session, committee_id),
                           requests=found, filters=request.args, states=QUEUE_STATES,
                           datasets=dataset_directory().requestable(session))


def _first_message(messages: Any) -> str:
    if isinstance(messages, dict):
        field, problems = next(iter(messages.items()))
        return f"{field}: {problems[0] if isinstance(problems, list) else problems}"
    return str(messages)


# --- admin pages: committees, members, roles ---------------------------------------------------

@pages.get("/admin/committees")
def admin_committees() -> str:
    actor = current_actor()
    admin_uc.require_admin(actor, "committee_list")
    return render_template("access/admin_committees.html",
                           committees=admin_uc.list_committees(db_session()))


@pages.post("/admin/committees")
def admin_create_committee() -> Response:
    data = _load_or_flash(CommitteeIn(), _committee_form(request.form))
    if data is not None:
        created = admin_uc.create_committee(db_session(), current_actor(), now=clock().now(),
                                            **data)
        flash(f"Committee {created.name} created.", "success")
        return redirect(f"/admin/committees/{created.id}")
    return redirect("/admin/committees")


@pages.get("/admin/committees/<int:committee_id>")
def admin_committee(committee_id: int) -> str:
    actor = current_actor()
    admin_uc.require_admin(actor, "committee_show")
    session = db_session()
    return render_template("access/admin_committee.html",
                           committee=admin_uc.get_committee(session, committee_id),
                           members=admin_uc.members_of(session, committee_id),
                           users=admin_uc.list_users(session))


@pages.post("/admin/committees/<int:committee_id>")
def admin_update_committee(committee_id: int) -> Response:
    data = _load_or_flash(CommitteeUpdateIn(), _committee_form(request.form))
    if data is not None:
        admin_uc.update_committee(db_session(), current_actor(), committee_id, changes=data,
                                  now=clock().now())
        flash("Committee saved.", "success")
    return redirect(f"/admin/committees/{committee_id}")


@pages.post("/admin/committees/<int:committee_id>/members")
def admin_set_member(committee_id: int) -> Response:
    user_id = request.form.get("user_id", "")
    data = _load_or_flash(MemberIn(), {
        "user_id": int(user_id) if user_id.isdigit() else user_id,
        "chair": request.form.get("chair") == "on"})
    if data is not None:
        admin_uc.set_committee_member(db_session(), current_actor(), committee_id,
                                      data["user_id"], chair=data["chair"], now=clock().now())
        flash("Membership saved.", "success")
    return redirect(f"/admin/committees/{committee_id}")


@pages.post("/admin/committees/<int:committee_id>/members/<int:user_id>/remove")
def admin_remove_member(committee_id: int, user_id: int) -> Response:
    admin_uc.remove_committee_member(db_session(), current_actor(), committee_id, user_id,
                                     now=clock().now())
    flash("Member removed.", "success")
    return redirect(f"/admin/committees/{committee_id}")


@pages.get("/admin/users")
def admin_users() -> str:
    actor = current_actor()
    admin_uc.require_admin(actor, "user_list")
    return render_template("access/admin_users.html", users=admin_uc.list_users(db_session()),
                           roles=[role.value for role in Role])


@pages.post("/admin/users/<int:user_id>/roles")
def admin_assign_role(user_id: int) -> Response:
    data = _load_or_flash(RoleIn(), {"role": request.form.get("role", ""),
                                     "scope": request.form.get("scope", "").strip()})
    if data is not None:
        admin_uc.assign_role(db_session(), current_actor(), user_id, Role(data["role"]),
                             scope=data["scope"], now=clock().now())
        flash("Role given.", "success")
    return redirect("/admin/users")


@pages.post("/admin/users/<int:user_id>/roles/<int:assignment_id>/remove")
def admin_revoke_role(user_id: int, assignment_id: int) -> Response:
    admin_uc.revoke_role(db_session(), current_actor(), user_id, assignment_id,
                         now=clock().now())
    flash("Role removed.", "success")
    return redirect("/admin/users")


def _committee_form(form: Any) -> dict[str, Any]:
    data: dict[str, Any] = {k: form[k] for k in ("name", "description") if k in form}
    days = form.get("default_approval_days", "")
    if days:
        data["default_approval_days"] = int(days) if days.isdigit() else days
    return data


def _load_or_flash(schema: Schema, data: dict[str, Any]) -> dict[str, Any] | None:
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        flash(f"Not done: {_first_message(exc.messages)}", "error")
        return None
    return loaded


# Each rendering of the create form carries an id of its own; a form sent again (a reload
# of the answer that showed the secret) must not create a second token.
_SENT_TOKEN_FORMS = "sent_token_forms"  # noqa: S105  (a session key, not a secret)


@pages.route("/tokens", methods=["GET", "POST"])
def tokens() -> Response:
    """Create (the secret is shown on this one answer only), list and revoke tokens."""
    actor = current_actor()
    actor.require_user()
    settings = _settings()
    issued = None
    form: dict[str, Any] = {"name": "", "days": str(settings.api_token_days),
                            "scopes": sorted(DEFAULT_SCOPES)}
    if request.method == "POST":
        form_id = request.form.get("form_id", "")
        if form_id in session.get(_SENT_TOKEN_FORMS, []):
            flash("That form was already sent: the token it created is listed below, and its "
                  "secret was shown once. Create another token if you need one.", "error")
            return redirect("/tokens", 303)
        days = request.form.get("days", "").strip()
        form = {"name": request.form.get("name", ""), "days": days,
                "scopes": request.form.getlist("scopes")}
        if not form_id:
            return _tokens_page(actor, form, None, {"name": [
                "This form is out of date: reload the page and send it again."]}, 400)
        try:
            # HTML forms send text; the schema wants a strict integer (or nothing).
            data = TokenIn().load({"name": form["name"] or "API token",
                                   "days": int(days) if days.isdigit() else days or None,
                                   "scopes": form["scopes"]})
        except ValidationError as exc:
            return _tokens_page(actor, form, None, exc.messages, 400)
        try:
            issued = create_api_token(
                db_session(), actor, name=data["name"], days=data["days"],
                max_days=settings.api_token_max_days, now=clock().now(),
                scopes=data["scopes"], default_days=settings.api_token_days,
            )
        except InvalidInput as exc:
            return _tokens_page(actor, form, None, {"days": [exc.message]}, 400)
        session[_SENT_TOKEN_FORMS] = [*session.get(_SENT_TOKEN_FORMS, []), form_id][-10:]
        form = {"name": "", "days": str(settings.api_token_days),
                "scopes": sorted(DEFAULT_SCOPES)}
    return _tokens_page(actor, form, issued, {})


def _tokens_page(actor: Actor, form: dict[str, Any], issued: IssuedToken | None,
                 errors: Any, status: int = 200) -> Response:
    flat = {field: [_first_message({field: problems})] for field, problems in
            (errors.items() if isinstance(errors, dict) else [("name", errors)])}
    page = make_response(render_template(
        "access/tokens.html", issued=issued, form=form, errors=flat,
        scopes=SCOPE_MEANINGS, max_days=_settings().api_token_max_days,
        tokens=list_api_tokens(db_session(), actor), now=clock().now(),
        form_id=secrets.token_urlsafe(16),
    ), status)
    page.headers["Cache-Control"] = "no-store"  # a secret on it must not stay in a cache
    return page


@pages.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int) -> Response:
    revoked = revoke_api_token(db_session(), current_actor(), token_id, clock().now())
    flash(f"Token {revoked.name!r} revoked: it no longer works.", "success")
    return redirect("/tokens")
