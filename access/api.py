"""The access JSON API under /api/v1: who am I, tokens, data-access requests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from marshmallow import Schema

from access import access_requests as requests_uc
from access import admin as admin_uc
from access import review as review_uc
from access.identity import Actor
from access.models import AccessRequest, Role
from access.ports import DatasetDirectory
from access.request_detail import describe_request
from access.schemas import (
    AnswerIn,
    ApproveIn,
    CloseIn,
    CommitteeDetailOut,
    CommitteeIn,
    CommitteeListOut,
    CommitteeOut,
    CommitteeQueueQuery,
    CommitteeUpdateIn,
    EndorseIn,
    MemberIn,
    MemberOut,
    NoBodyIn,
    ReasonIn,
    RejectIn,
    RenewIn,
    RequestDetailOut,
    RequestExtrasOut,
    RequestIn,
    RequestListOut,
    RequestListQuery,
    RequestOut,
    ReturnIn,
    ReviseIn,
    RoleIn,
    TokenIn,
    TokenInfoOut,
    TokenListOut,
    TokenOut,
    UserAdminOut,
    UserListOut,
    UserOut,
    VoteIn,
    WhoAmIOut,
)
from access.tokens import create_api_token, list_api_tokens, revoke_api_token
from access.web import current_actor
from access.workflow import RequestAction
from config import Settings
from core.api import parse_body, parse_query
from core.api_docs import Operation, documented
from core.csrf import csrf_token
from core.errors import NotFound
from core.request_scope import clock, db_session
from core.scopes import Scope

api = Blueprint("access_api", __name__, url_prefix="/api/v1")
request_out = RequestOut()


def dataset_directory() -> DatasetDirectory:
    directory: DatasetDirectory = current_app.extensions["custodian.dataset_directory"]
    return directory


@api.get("/users/me")
@documented("Who am I: the signed-in user, their roles and the CSRF token for POSTs",
            response=WhoAmIOut)
def who_am_i() -> Response:
    actor = current_actor()
    user = actor.require_user()
    body = UserOut().dump(user)
    body["roles"] = sorted({assignment.role for assignment in user.roles})
    # Scripts using the session cookie need the CSRF token for their POSTs; cross-site
    # pages cannot read this response, so handing it out here is safe.
    body["csrf_token"] = csrf_token()
    return jsonify(body)


@api.post("/tokens")
@documented("Create a personal API token (shown once)", body=TokenIn, response=TokenOut,
            status=201, description="A token made with a token gets no more scopes, and no "
                                    "longer life, than the token that made it.")
def create_token() -> tuple[Response, int]:
    data = parse_body(TokenIn())
    settings: Settings = current_app.config["CUSTODIAN_SETTINGS"]
    issued = create_api_token(
        db_session(), current_actor(), name=data["name"], days=data["days"],
        max_days=settings.api_token_max_days, now=clock().now(), scopes=data["scopes"],
        default_days=settings.api_token_days,
    )
    record = issued.record
    body = TokenOut().dump({"id": record.id, "name": record.name, "token": issued.token,
                            "expires_at": record.expires_at, "scopes": record.scopes})
    return jsonify(body), 201


@api.get("/tokens")
@documented("List my API tokens (never their secrets)", response=TokenListOut)
def list_tokens() -> Response:
    found = list_api_tokens(db_session(), current_actor())
    return jsonify({"tokens": TokenInfoOut(many=True).dump(found)})


@api.delete("/tokens/<int:token_id>")
@documented("Revoke one of my API tokens; it stops working at once", status=204)
def revoke_token(token_id: int) -> tuple[str, int]:
    revoke_api_token(db_session(), current_actor(), token_id, clock().now())
    return "", 204


@api.get("/requests")
@documented("My requests, or the requests waiting for me to review", query=RequestListQuery,
            response=RequestListOut, scope=Scope.REQUESTS)
def list_requests() -> Response:
    scope = parse_query(RequestListQuery())["scope"]
    actor, session, now = current_actor(), db_session(), clock().now()
    found = {
        "mine": lambda: requests_uc.requests_filed_by(session, actor, now),
        "shared": lambda: requests_uc.requests_shared_with(session, actor, now),
        "review": lambda: requests_uc.review_queue(session, actor),
        "endorse": lambda: requests_uc.endorsement_queue(session, actor),
    }[scope]()
    return jsonify({"requests": request_out.dump(found, many=True)})


@api.post("/requests")
@documented("File a data-access request (a draft)", body=RequestIn, response=RequestOut,
            status=201, scope=Scope.REQUESTS)
def file_request() -> tuple[Response, int]:
    data = parse_body(RequestIn())
    created = requests_uc.create_request(
        db_session(), current_actor(), directory=dataset_directory(), now=clock().now(), **data
    )
    return jsonify(request_out.dump(created)), 201


@api.get("/requests/<int:request_id>")
@documented("One data-access request I may see", response=RequestDetailOut,
            scope=Scope.REQUESTS)
def show_request(request_id: int) -> Response:
    actor = current_actor()
    found = requests_uc.get_visible_request(db_session(), actor, request_id, clock().now())
    return jsonify(dump_detail(actor, found))


def dump_detail(actor: Actor, request: AccessRequest) -> dict[str, Any]:
    body: dict[str, Any] = request_out.dump(request)
    body.update(RequestExtrasOut().dump(describe_request(db_session(), actor, request)))
    return body


Handler = Callable[[Actor, int, dict[str, Any]], AccessRequest]


def _now() -> datetime:
    return clock().now()


# One entry per action of the workflow a person takes (expiry is the service's own).
ACTIONS: dict[str, tuple[Schema, Handler]] = {
    RequestAction.SUBMIT: (NoBodyIn(), lambda actor, rid, _: requests_uc.submit_request(
        db_session(), actor, rid, _now())),
    RequestAction.REVISE: (ReviseIn(), lambda actor, rid, data: requests_uc.revise_request(
        db_session(), actor, rid, changes=data, now=_now())),
    RequestAction.ANSWER: (AnswerIn(), lambda actor, rid, data: requests_uc.answer_questions(
        db_session(), actor, rid, answers={int(k): v for k, v in data["answers"].items()},
        now=_now())),
    RequestAction.WITHDRAW: (NoBodyIn(), lambda actor, rid, _: requests_uc.withdraw_request(
        db_session(), actor, rid, _now())),
    RequestAction.ENDORSE: (EndorseIn(), lambda actor, rid, data: requests_uc.endorse_request(
        db_session(), actor, rid, comment=data.get("comment", ""), now=_now())),
    RequestAction.DECLINE: (ReasonIn(), lambda actor, rid, data: requests_uc.decline_request(
        db_session(), actor, rid, reason=data["reason"], now=_now())),
    RequestAction.VOTE: (VoteIn(), lambda actor, rid, data: requests_uc.vote_on_request(
        db_session(), actor, rid, now=_now(), **data)),
    RequestAction.DECLARE_CONFLICT: (ReasonIn(), lambda actor, rid, data:
        requests_uc.declare_conflict(db_session(), actor, rid, reason=data["reason"],
                                     now=_now())),
    RequestAction.APPROVE: (ApproveIn(), lambda actor, rid, data: requests_uc.approve_request(
        db_session(), actor, rid, now=_now(), **data)),
    RequestAction.REJECT: (RejectIn(), lambda actor, rid, data: requests_uc.reject_request(
        db_session(), actor, rid, now=_now(), **data)),
    RequestAction.RETURN: (ReturnIn(), lambda actor, rid, data: requests_uc.return_request(
        db_session(), actor, rid, now=_now(), **data)),
    RequestAction.REVOKE: (ReasonIn(), lambda actor, rid, data: requests_uc.revoke_request(
        db_session(), actor, rid, reason=data["reason"], now=_now())),
    RequestAction.CLOSE: (CloseIn(), lambda actor, rid, data: requests_uc.close_request(
        db_session(), actor, rid, statement=data["statement"], now=_now())),
    RequestAction.RENEW: (RenewIn(), lambda actor, rid, data: requests_uc.renew_request(
        db_session(), actor, rid, progress_report=data["progress_report"],
        directory=dataset_directory(), now=_now())),
    RequestAction.ACCEPT: (NoBodyIn(), lambda actor, rid, _: requests_uc.accept_collaboration(
        db_session(), actor, rid, now=_now())),
}
# The answer is the request acted on, except for renew: the new, linked draft (201).
CREATES = frozenset({RequestAction.RENEW.value})


def _action_operations() -> dict[str, Operation]:
    """One documented path per action, read from ACTIONS when the document is built."""
    return {str(action): Operation(f"Move a request: {action}", body=type(schema),
                                   response=RequestDetailOut, scope=Scope.REQUESTS,
                                   status=201 if action in CREATES else 200)
            for action, (schema, _) in ACTIONS.items()}


@api.post("/requests/<int:request_id>/<action>")
@documented("Move a request through the workflow", scope=Scope.REQUESTS,
            variant_argument="action", variants=_action_operations)
def act_on_request(request_id: int, action: str) -> tuple[Response, int]:
    if action not in ACTIONS:
        raise NotFound(f"Unknown action {action!r}.", details={"actions": sorted(ACTIONS)})
    schema, handler = ACTIONS[action]
    data = parse_body(schema)
    actor = current_actor()
    moved = handler(actor, request_id, data)
    return jsonify(dump_detail(actor, moved)), 201 if action in CREATES else 200


# --- committees: their queues (members) and their make-up (admins) -------------------------

@api.get("/committees")
@documented("Every committee", response=CommitteeListOut, scope=Scope.REQUESTS)
def list_committees() -> Response:
    current_actor().require_user()
    return jsonify({"committees": CommitteeOut().dump(admin_uc.list_committees(db_session()),
                                                      many=True)})


@api.post("/committees")
@documented("Create a committee (admins)", body=CommitteeIn, response=CommitteeDetailOut,
            status=201, scope=Scope.ADMIN)
def create_committee() -> tuple[Response, int]:
    data = parse_body(CommitteeIn())
    created = admin_uc.create_committee(db_session(), current_actor(), now=clock().now(), **data)
    return jsonify(_committee_body(created.id)), 201


@api.get("/committees/<int:committee_id>")
@documented("One committee; its members for admins, auditors and the committee",
            response=CommitteeDetailOut, scope=Scope.REQUESTS)
def show_committee(committee_id: int) -> Response:
    """Anyone signed in sees a committee; its members are listed to admins, auditors and
    the committee itself."""
    actor = current_actor()
    user = actor.require_user()
    body = _committee_body(committee_id)
    if not (actor.has_role(Role.ADMIN) or actor.has_role(Role.AUDITOR)
            or any(m["user_id"] == user.id for m in body["members"])):
        del body["members"]
    return jsonify(body)


@api.patch("/committees/<int:committee_id>")
@documented("Change a committee's name, description or approval period (admins)",
            body=CommitteeUpdateIn, response=CommitteeDetailOut, scope=Scope.ADMIN)
def update_committee(committee_id: int) -> Response:
    data = parse_body(CommitteeUpdateIn())
    admin_uc.update_committee(db_session(), current_actor(), committee_id, changes=data,
                              now=clock().now())
    return jsonify(_committee_body(committee_id))


@api.post("/committees/<int:committee_id>/members")
@documented("Add a member, or make one chair or not (admins)", body=MemberIn,
            response=CommitteeDetailOut, scope=Scope.ADMIN)
def set_committee_member(committee_id: int) -> Response:
    data = parse_body(MemberIn())
    admin_uc.set_committee_member(db_session(), current_actor(), committee_id, data["user_id"],
                                  chair=data["chair"], now=clock().now())
    return jsonify(_committee_body(committee_id))


@api.delete("/committees/<int:committee_id>/members/<int:user_id>")
@documented("Remove a member (admins)", status=204, scope=Scope.ADMIN)
def remove_committee_member(committee_id: int, user_id: int) -> tuple[str, int]:
    admin_uc.remove_committee_member(db_session(), current_actor(), committee_id, user_id,
                                     now=clock().now())
    return "", 204


@api.get("/committees/<int:committee_id>/queue")
@documented("The committee's requests (members), by state, dataset and submission date",
            query=CommitteeQueueQuery, response=RequestListOut, scope=Scope.REQUESTS)
def committee_queue(committee_id: int) -> Response:
    """The committee's requests; ``state`` (comma-separated), ``dataset_id``, ``submitted_from``,
    ``submitted_to`` (dates, inclusive). Without ``state``: those waiting for a decision."""
    query = parse_query(CommitteeQueueQuery())
    found = review_uc.committee_queue(
        db_session(), current_actor(), committee_id,
        states=query.get("state") or review_uc.REVIEW_STATES, dataset_id=query.get("dataset_id"),
        submitted_from=query.get("submitted_from"), submitted_to=query.get("submitted_to"),
        now=clock().now())
    return jsonify({"requests": request_out.dump(found, many=True)})


def _committee_body(committee_id: int) -> dict[str, Any]:
    session = db_session()
    body: dict[str, Any] = CommitteeOut().dump(admin_uc.get_committee(session, committee_id))
    body["members"] = MemberOut().dump([
        {"user_id": user.id, "name": user.display_name, "email": user.email,
         "chair": membership.is_chair}
        for membership, user in admin_uc.members_of(session, committee_id)], many=True)
    return body


# --- users and their roles (admins) ----------------------------------------------------------

@api.get("/users")
@documented("Every user with their roles (admins)", response=UserListOut, scope=Scope.ADMIN)
def list_users() -> Response:
    admin_uc.require_admin(current_actor(), "user_list")
    return jsonify({"users": UserAdminOut().dump(admin_uc.list_users(db_session()), many=True)})


@api.post("/users/<int:user_id>/roles")
@documented("Give a user a role; a signing official's scope is their institution (admins)",
            body=RoleIn, response=UserAdminOut, status=201, scope=Scope.ADMIN)
def assign_role(user_id: int) -> tuple[Response, int]:
    data = parse_body(RoleIn())
    user = admin_uc.assign_role(db_session(), current_actor(), user_id, Role(data["role"]),
                                scope=data["scope"], now=clock().now())
    return jsonify(UserAdminOut().dump(user)), 201


@api.delete("/users/<int:user_id>/roles/<int:assignment_id>")
@documented("Take a role back (admins)", response=UserAdminOut, scope=Scope.ADMIN)
def revoke_role(user_id: int, assignment_id: int) -> Response:
    user = admin_uc.revoke_role(db_session(), current_actor(), user_id, assignment_id,
                                now=clock().now())
    return jsonify(UserAdminOut().dump(user))
