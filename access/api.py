"""The access JSON API under /api/v1: personal API tokens, committees and their members,
institutions, users and their roles."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from access import committees, people, roles
from access.identity import institutions, users
from access.identity.current_actor import current_actor
from access.identity.models import Role
from access.identity.sessions import end_all_sessions
from access.schemas import (
    CommitteeDetailOut,
    CommitteeIn,
    CommitteeListOut,
    CommitteeOut,
    CommitteeUpdateIn,
    InstitutionIn,
    InstitutionListOut,
    InstitutionOut,
    InstitutionUpdateIn,
    InvitationIn,
    MemberIn,
    MemberOut,
    RoleIn,
    TokenIn,
    TokenInfoOut,
    TokenListOut,
    TokenOut,
    UserAdminOut,
    UserListOut,
    UserUpdateIn,
)
from access.tokens import create_api_token, list_api_tokens, revoke_api_token
from config import Settings
from core.scopes import Scope
from core.web.api import parse_body
from core.web.api_docs import documented
from core.web.request_scope import clock, db_session

api = Blueprint("access_api", __name__, url_prefix="/api/v1")


@api.post("/tokens")
@documented(
    "Create a personal API token (shown once)",
    body=TokenIn,
    response=TokenOut,
    status=201,
    scope=Scope.TOKENS,
    description="A token made with a token gets no more scopes, and no "
    "longer life, than the token that made it.",
)
def create_token() -> tuple[Response, int]:
    data = parse_body(TokenIn())
    settings: Settings = current_app.config["CUSTODIAN_SETTINGS"]
    issued = create_api_token(
        db_session(),
        current_actor(),
        name=data["name"],
        days=data["days"],
        max_days=settings.api_token_max_days,
        now=clock().now(),
        scopes=data["scopes"],
        default_days=settings.api_token_days,
    )
    record = issued.record
    body = TokenOut().dump(
        {
            "id": record.id,
            "name": record.name,
            "token": issued.token,
            "expires_at": record.expires_at,
            "scopes": record.scopes,
        }
    )
    return jsonify(body), 201


@api.get("/tokens")
@documented("List my API tokens (never their secrets)", response=TokenListOut, scope=Scope.TOKENS)
def list_tokens() -> Response:
    found = list_api_tokens(db_session(), current_actor())
    return jsonify({"tokens": TokenInfoOut(many=True).dump(found)})


@api.delete("/tokens/<int:token_id>")
@documented("Revoke one of my API tokens; it stops working at once", status=204, scope=Scope.TOKENS)
def revoke_token(token_id: int) -> tuple[str, int]:
    revoke_api_token(db_session(), current_actor(), token_id, clock().now())
    return "", 204


# --- committees: their queues (members) and their make-up (admins) -------------------------


@api.get("/committees")
@documented("Every committee", response=CommitteeListOut, scope=Scope.REQUESTS)
def list_committees() -> Response:
    current_actor().require_user()
    return jsonify(
        {"committees": CommitteeOut().dump(committees.list_committees(db_session()), many=True)}
    )


@api.post("/committees")
@documented(
    "Create a committee (admins)",
    body=CommitteeIn,
    response=CommitteeDetailOut,
    status=201,
    scope=Scope.ADMIN,
)
def create_committee() -> tuple[Response, int]:
    data = parse_body(CommitteeIn())
    created = committees.create_committee(db_session(), current_actor(), now=clock().now(), **data)
    return jsonify(_committee_body(created.id)), 201


@api.get("/committees/<int:committee_id>")
@documented(
    "One committee; its members for admins, auditors and the committee",
    response=CommitteeDetailOut,
    scope=Scope.REQUESTS,
)
def show_committee(committee_id: int) -> Response:
    """Anyone signed in sees a committee; its members are listed to admins, auditors and
    the committee itself."""
    actor = current_actor()
    user = actor.require_user()
    body = _committee_body(committee_id)
    if not (
        actor.has_role(Role.ADMIN)
        or actor.has_role(Role.AUDITOR)
        or any(m["user_id"] == user.id for m in body["members"])
    ):
        del body["members"]
    return jsonify(body)


@api.patch("/committees/<int:committee_id>")
@documented(
    "Change a committee's name, description or approval period (admins)",
    body=CommitteeUpdateIn,
    response=CommitteeDetailOut,
    scope=Scope.ADMIN,
)
def update_committee(committee_id: int) -> Response:
    data = parse_body(CommitteeUpdateIn())
    committees.update_committee(
        db_session(), current_actor(), committee_id, changes=data, now=clock().now()
    )
    return jsonify(_committee_body(committee_id))


@api.post("/committees/<int:committee_id>/members")
@documented(
    "Add a member, or make one chair or not (admins)",
    body=MemberIn,
    response=CommitteeDetailOut,
    scope=Scope.ADMIN,
)
def set_committee_member(committee_id: int) -> Response:
    data = parse_body(MemberIn())
    committees.set_committee_member(
        db_session(),
        current_actor(),
        committee_id,
        data["user_id"],
        chair=data["chair"],
        now=clock().now(),
    )
    return jsonify(_committee_body(committee_id))


@api.delete("/committees/<int:committee_id>/members/<int:user_id>")
@documented("Remove a member (admins)", status=204, scope=Scope.ADMIN)
def remove_committee_member(committee_id: int, user_id: int) -> tuple[str, int]:
    committees.remove_committee_member(
        db_session(), current_actor(), committee_id, user_id, now=clock().now()
    )
    return "", 204


def _committee_body(committee_id: int) -> dict[str, Any]:
    session = db_session()
    body: dict[str, Any] = CommitteeOut().dump(committees.get_committee(session, committee_id))
    body["members"] = MemberOut().dump(
        [
            {
                "user_id": user.id,
                "name": user.display_name,
                "email": user.email,
                "chair": membership.is_chair,
            }
            for membership, user in committees.members_of(session, committee_id)
        ],
        many=True,
    )
    return body


# --- users and their roles (admins) ----------------------------------------------------------


@api.get("/users")
@documented("Every user with their roles (admins)", response=UserListOut, scope=Scope.ADMIN)
def list_users() -> Response:
    roles.require_admin(current_actor(), "user_list")
    return jsonify({"users": UserAdminOut().dump(users.list_users(db_session()), many=True)})


@api.post("/users")
@documented(
    "Invite a person by email (admins), with their roles and committee seats",
    body=InvitationIn,
    response=UserAdminOut,
    status=201,
    scope=Scope.ADMIN,
    description="The invitation binds at the person's first sign-in whose identity provider "
    "asserts email_verified for this email (and is the named issuer, if one is given); "
    "never to an unverified email. 409 if the email is already invited, or is the verified "
    "email of a user who has signed in.",
)
def invite_user() -> tuple[Response, int]:
    data = parse_body(InvitationIn())
    invited = people.invite_person(
        db_session(),
        current_actor(),
        email=data["email"],
        issuer=data["issuer"],
        roles=[(Role(r["role"]), r["institution_id"]) for r in data["roles"]],
        seats=[(c["committee_id"], c["chair"]) for c in data["committees"]],
        now=clock().now(),
    )
    return jsonify(UserAdminOut().dump(invited)), 201


@api.patch("/users/<int:user_id>")
@documented(
    "Set a user's institution (admins); it outranks the sign-in's claim and email domain",
    body=UserUpdateIn,
    response=UserAdminOut,
    scope=Scope.ADMIN,
)
def update_user(user_id: int) -> Response:
    data = parse_body(UserUpdateIn())
    user = institutions.set_user_institution(
        db_session(), current_actor(), user_id, data["institution_id"], now=clock().now()
    )
    return jsonify(UserAdminOut().dump(user))


@api.delete("/users/<int:user_id>/invitation")
@documented(
    "Withdraw an invitation (admins): it never binds, its roles and seats go",
    status=204,
    scope=Scope.ADMIN,
)
def withdraw_invitation(user_id: int) -> tuple[str, int]:
    people.withdraw_invitation(db_session(), current_actor(), user_id, now=clock().now())
    return "", 204


@api.delete("/users/<int:user_id>/sessions")
@documented(
    "End every browser session of a user (admins), e.g. when they leave",
    status=204,
    scope=Scope.ADMIN,
)
def end_user_sessions(user_id: int) -> tuple[str, int]:
    actor = current_actor()
    roles.require_admin(actor, "session_end")
    end_all_sessions(db_session(), actor, user_id, now=clock().now(), reason="admin")
    return "", 204


@api.post("/users/<int:user_id>/roles")
@documented(
    "Give a user a role; a signing official's is scoped to an institution (admins)",
    body=RoleIn,
    response=UserAdminOut,
    status=201,
    scope=Scope.ADMIN,
)
def assign_role(user_id: int) -> tuple[Response, int]:
    data = parse_body(RoleIn())
    user = roles.assign_role(
        db_session(),
        current_actor(),
        user_id,
        Role(data["role"]),
        institution_id=data["institution_id"],
        now=clock().now(),
    )
    return jsonify(UserAdminOut().dump(user)), 201


@api.delete("/users/<int:user_id>/roles/<int:assignment_id>")
@documented("Take a role back (admins)", response=UserAdminOut, scope=Scope.ADMIN)
def revoke_role(user_id: int, assignment_id: int) -> Response:
    user = roles.revoke_role(
        db_session(), current_actor(), user_id, assignment_id, now=clock().now()
    )
    return jsonify(UserAdminOut().dump(user))


# --- institutions: anyone signed in reads them, admins keep them ---------------------------


@api.get("/institutions")
@documented("Every institution", response=InstitutionListOut, scope=Scope.REQUESTS)
def list_institutions() -> Response:
    current_actor().require_user()
    found = institutions.list_institutions(db_session())
    return jsonify({"institutions": InstitutionOut().dump(found, many=True)})


@api.post("/institutions")
@documented(
    "Create an institution (admins): name, optional ROR id, email domains",
    body=InstitutionIn,
    response=InstitutionOut,
    status=201,
    scope=Scope.ADMIN,
    description="409 if the name, the ROR id or an email domain is another institution's.",
)
def create_institution() -> tuple[Response, int]:
    data = parse_body(InstitutionIn())
    made = institutions.create_institution(
        db_session(), current_actor(), now=clock().now(), **data
    )
    return jsonify(InstitutionOut().dump(made)), 201


@api.patch("/institutions/<int:institution_id>")
@documented(
    "Change an institution (admins); email_domains replaces the whole list",
    body=InstitutionUpdateIn,
    response=InstitutionOut,
    scope=Scope.ADMIN,
)
def update_institution(institution_id: int) -> Response:
    data = parse_body(InstitutionUpdateIn())
    changed = institutions.update_institution(
        db_session(), current_actor(), institution_id, changes=data, now=clock().now()
    )
    return jsonify(InstitutionOut().dump(changed))
