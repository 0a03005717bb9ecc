"""Pages of the access package itself: personal API tokens, and the admin pages for
committees, their members and users' roles.

This file lists every page URL of these; the JSON API is in api.py.
"""

from __future__ import annotations

import secrets
from typing import Any, TypeVar

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
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from access import committees, people, roles
from access.identity import users
from access.identity.actor import Actor
from access.identity.current_actor import current_actor
from access.identity.institutions import list_institutions
from access.identity.models import Role
from access.schemas import (
    CommitteeIn,
    CommitteeUpdateIn,
    InvitationIn,
    MemberIn,
    RoleIn,
    TokenIn,
)
from access.tokens import IssuedToken, create_api_token, list_api_tokens, revoke_api_token
from config import Settings
from core.errors import InvalidInput, NotFound
from core.schemas import first_problem
from core.scopes import DEFAULT_SCOPES, SCOPE_MEANINGS
from core.web.confirmation import Confirmation, confirmation_page, is_confirmed
from core.web.forms import chosen_id, done_or_flash, load_or_flash
from core.web.request_scope import clock, db_session

pages = Blueprint("access", __name__, template_folder="templates")
T = TypeVar("T")


def _settings() -> Settings:
    settings: Settings = current_app.config["CUSTODIAN_SETTINGS"]
    return settings


# --- admin pages: committees, members, roles ---------------------------------------------------


@pages.get("/admin/committees")
def admin_committees() -> str:
    actor = current_actor()
    roles.require_admin(actor, "committee_list")
    return render_template(
        "access/admin_committees.html", committees=committees.list_committees(db_session())
    )


@pages.post("/admin/committees")
def admin_create_committee() -> Response:
    data = load_or_flash(CommitteeIn(), _committee_form(request.form))
    if data is not None:
        created = committees.create_committee(
            db_session(), current_actor(), now=clock().now(), **data
        )
        flash(f"Committee {created.name} created.", "success")
        return redirect(f"/admin/committees/{created.id}")
    return redirect("/admin/committees")


@pages.get("/admin/committees/<int:committee_id>")
def admin_committee(committee_id: int) -> str:
    actor = current_actor()
    roles.require_admin(actor, "committee_show")
    session = db_session()
    return render_template(
        "access/admin_committee.html",
        committee=committees.get_committee(session, committee_id),
        members=committees.members_of(session, committee_id),
        users=[u for u in users.list_users(session) if u.status not in ("withdrawn", "merged")],
    )


@pages.post("/admin/committees/<int:committee_id>")
def admin_update_committee(committee_id: int) -> Response:
    data = load_or_flash(CommitteeUpdateIn(), _committee_form(request.form))
    if data is not None:
        committees.update_committee(
            db_session(), current_actor(), committee_id, changes=data, now=clock().now()
        )
        flash("Committee saved.", "success")
    return redirect(f"/admin/committees/{committee_id}")


@pages.post("/admin/committees/<int:committee_id>/members")
def admin_set_member(committee_id: int) -> Response:
    user_id = request.form.get("user_id", "")
    data = load_or_flash(
        MemberIn(),
        {
            "user_id": int(user_id) if user_id.isdigit() else user_id,
            "chair": request.form.get("chair") == "on",
        },
    )
    if data is not None:
        committees.set_committee_member(
            db_session(),
            current_actor(),
            committee_id,
            data["user_id"],
            chair=data["chair"],
            now=clock().now(),
        )
        flash("Membership saved.", "success")
    return redirect(f"/admin/committees/{committee_id}")


@pages.post("/admin/committees/<int:committee_id>/members/<int:user_id>/remove")
def admin_remove_member(committee_id: int, user_id: int) -> Response | str:
    actor = current_actor()
    if not is_confirmed(request.form):
        roles.require_admin(actor, "committee_member_remove")
        committee = committees.get_committee(db_session(), committee_id)
        member = next(
            (u for _, u in committees.members_of(db_session(), committee_id) if u.id == user_id),
            None,
        )
        if member is None:
            raise NotFound(f"User {user_id} is not a member of committee {committee_id}.")
        return confirmation_page(
            Confirmation(
                f"Remove {member.display_name} from {committee.name}?",
                "They stop seeing the committee's queue and can no longer vote or decide on its "
                "requests, at once. Adding them back later starts a new membership.",
                "Yes, remove them",
            ),
            action_url=request.path,
            back_url=f"/admin/committees/{committee_id}",
            fields={},
        )
    committees.remove_committee_member(
        db_session(), actor, committee_id, user_id, now=clock().now()
    )
    flash("Member removed.", "success")
    return redirect(f"/admin/committees/{committee_id}")


@pages.get("/admin/users")
def admin_users() -> str:
    actor = current_actor()
    roles.require_admin(actor, "user_list")
    session = db_session()
    return render_template(
        "access/admin_users.html",
        users=users.list_users(session),
        roles=[role.value for role in Role],
        committees=committees.list_committees(session),
        institutions=list_institutions(session),
    )


@pages.post("/admin/users")
def admin_invite_user() -> Response:
    """The invitation form: an email, optionally an issuer, one role and one seat (more
    are given on this page afterwards, as to anyone)."""
    form = request.form
    committee_id = form.get("committee_id", "")
    data = load_or_flash(
        InvitationIn(),
        {
            "email": form.get("email", "").strip(),
            "issuer": form.get("issuer", "").strip() or None,
            "roles": [
                {"role": form["role"], "institution_id": chosen_id(form.get("institution_id"))}
            ]
            if form.get("role")
            else [],
            "committees": [
                {
                    "committee_id": int(committee_id) if committee_id.isdigit() else committee_id,
                    "chair": form.get("chair") == "on",
                }
            ]
            if committee_id
            else [],
        },
    )
    if data is not None:
        invited = people.invite_person(
            db_session(),
            current_actor(),
            email=data["email"],
            issuer=data["issuer"],
            roles=[(Role(r["role"]), r["institution_id"]) for r in data["roles"]],
            seats=[(c["committee_id"], c["chair"]) for c in data["committees"]],
            now=clock().now(),
        )
        flash(
            f"Invited {invited.email}: bound at their first sign-in with this email verified.",
            "success",
        )
    return redirect("/admin/users")


@pages.post("/admin/users/<int:user_id>/withdraw")
def admin_withdraw_invitation(user_id: int) -> Response:
    withdrawn = people.withdraw_invitation(
        db_session(), current_actor(), user_id, now=clock().now()
    )
    flash(f"Invitation of {withdrawn.email} withdrawn.", "success")
    return redirect("/admin/users")


@pages.post("/admin/users/<int:user_id>/roles")
def admin_assign_role(user_id: int) -> Response:
    data = load_or_flash(
        RoleIn(),
        {"role": request.form.get("role", ""),
         "institution_id": chosen_id(request.form.get("institution_id"))},
    )
    if data is not None and done_or_flash(lambda: roles.assign_role(
        db_session(),
        current_actor(),
        user_id,
        Role(data["role"]),
        institution_id=data["institution_id"],
        now=clock().now(),
    )) is not None:
        flash("Role given.", "success")
    return redirect("/admin/users")


@pages.post("/admin/users/<int:user_id>/roles/<int:assignment_id>/remove")
def admin_revoke_role(user_id: int, assignment_id: int) -> Response:
    roles.revoke_role(db_session(), current_actor(), user_id, assignment_id, now=clock().now())
    flash("Role removed.", "success")
    return redirect("/admin/users")


def _committee_form(form: Any) -> dict[str, Any]:
    data: dict[str, Any] = {k: form[k] for k in ("name", "description") if k in form}
    days = form.get("default_approval_days", "")
    if days:
        data["default_approval_days"] = int(days) if days.isdigit() else days
    return data


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
    form: dict[str, Any] = {
        "name": "",
        "days": str(settings.api_token_days),
        "scopes": sorted(DEFAULT_SCOPES),
    }
    if request.method == "POST":
        form_id = request.form.get("form_id", "")
        if form_id in session.get(_SENT_TOKEN_FORMS, []):
            flash(
                "That form was already sent: the token it created is listed below, and its "
                "secret was shown once. Create another token if you need one.",
                "error",
            )
            return redirect("/tokens", 303)
        days = request.form.get("days", "").strip()
        form = {
            "name": request.form.get("name", ""),
            "days": days,
            "scopes": request.form.getlist("scopes"),
        }
        if not form_id:
            return _tokens_page(
                actor,
                form,
                None,
                {"name": ["This form is out of date: reload the page and send it again."]},
                400,
            )
        try:
            # HTML forms send text; the schema wants a strict integer (or nothing).
            data = TokenIn().load(
                {
                    "name": form["name"] or "API token",
                    "days": int(days) if days.isdigit() else days or None,
                    "scopes": form["scopes"],
                }
            )
        except ValidationError as exc:
            return _tokens_page(actor, form, None, exc.messages, 400)
        try:
            issued = create_api_token(
                db_session(),
                actor,
                name=data["name"],
                days=data["days"],
                max_days=settings.api_token_max_days,
                now=clock().now(),
                scopes=data["scopes"],
                default_days=settings.api_token_days,
            )
        except InvalidInput as exc:
            return _tokens_page(actor, form, None, {"days": [exc.message]}, 400)
        session[_SENT_TOKEN_FORMS] = [*session.get(_SENT_TOKEN_FORMS, []), form_id][-10:]
        form = {"name": "", "days": str(settings.api_token_days), "scopes": sorted(DEFAULT_SCOPES)}
    return _tokens_page(actor, form, issued, {})


def _tokens_page(
    actor: Actor, form: dict[str, Any], issued: IssuedToken | None, errors: Any, status: int = 200
) -> Response:
    flat = {
        field: [first_problem({field: problems})]
        for field, problems in (errors.items() if isinstance(errors, dict) else [("name", errors)])
    }
    page = make_response(
        render_template(
            "access/tokens.html",
            issued=issued,
            form=form,
            errors=flat,
            scopes=SCOPE_MEANINGS,
            max_days=_settings().api_token_max_days,
            tokens=list_api_tokens(db_session(), actor),
            now=clock().now(),
            form_id=secrets.token_urlsafe(16),
        ),
        status,
    )
    page.headers["Cache-Control"] = "no-store"  # a secret on it must not stay in a cache
    return page


@pages.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int) -> Response | str:
    mine = next(
        (
            t
            for t in list_api_tokens(db_session(), current_actor())
            if t.id == token_id and t.revoked_at is None
        ),
        None,
    )
    # Someone else's, unknown or already revoked: the use case refuses it as it is.
    if mine is not None and not is_confirmed(request.form):
        return confirmation_page(
            Confirmation(
                f"Revoke the API token {mine.name!r}?",
                "Every script or client using it stops working at once. A revoked token cannot "
                "be restored: you would create a new one.",
                "Yes, revoke it",
            ),
            action_url=request.path,
            back_url="/tokens",
            fields={},
        )
    revoked = revoke_api_token(db_session(), current_actor(), token_id, clock().now())
    flash(f"Token {revoked.name!r} revoked: it no longer works.", "success")
    return redirect("/tokens")
