"""The access JSON API under /api/v1: who am I, tokens, data-access requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from marshmallow import Schema

from access import access_requests as requests_uc
from access.identity import Actor
from access.models import AccessRequest
from access.ports import DatasetDirectory
from access.schemas import (
    ApproveIn,
    NoBodyIn,
    RejectIn,
    RequestIn,
    RequestListOut,
    RequestListQuery,
    RequestOut,
    TokenIn,
    TokenInfoOut,
    TokenListOut,
    TokenOut,
    UserOut,
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
    actor = current_actor()
    found = (requests_uc.requests_filed_by if scope == "mine" else requests_uc.review_queue)(
        db_session(), actor
    )
    return jsonify({"requests": request_out.dump(found, many=True)})


@api.post("/requests")
@documented("File a data-access request (a draft)", body=RequestIn, response=RequestOut,
            status=201, scope=Scope.REQUESTS)
def file_request() -> tuple[Response, int]:
    data = parse_body(RequestIn())
    created = requests_uc.create_request(
        db_session(), current_actor(), title=data["title"],
        research_use_statement=data["research_use_statement"],
        dataset_ids=data["dataset_ids"], directory=dataset_directory(), now=clock().now(),
    )
    return jsonify(request_out.dump(created)), 201


@api.get("/requests/<int:request_id>")
@documented("One data-access request I may see", response=RequestOut, scope=Scope.REQUESTS)
def show_request(request_id: int) -> Response:
    found = requests_uc.get_visible_request(db_session(), current_actor(), request_id)
    return jsonify(request_out.dump(found))


Handler = Callable[[Actor, int, dict[str, Any]], AccessRequest]
ACTIONS: dict[str, tuple[Schema, Handler]] = {
    RequestAction.SUBMIT: (NoBodyIn(), lambda actor, rid, _: requests_uc.submit_request(
        db_session(), actor, rid, clock().now())),
    RequestAction.WITHDRAW: (NoBodyIn(), lambda actor, rid, _: requests_uc.withdraw_request(
        db_session(), actor, rid, clock().now())),
    RequestAction.APPROVE: (ApproveIn(), lambda actor, rid, data: requests_uc.approve_request(
        db_session(), actor, rid, reason=data["reason"], days=data["days"], now=clock().now())),
    RequestAction.REJECT: (RejectIn(), lambda actor, rid, data: requests_uc.reject_request(
        db_session(), actor, rid, reason=data["reason"], now=clock().now())),
}


def _action_operations() -> dict[str, Operation]:
    """One documented path per action, read from ACTIONS when the document is built."""
    return {str(action): Operation(f"Move a request: {action}", body=type(schema),
                                   response=RequestOut, scope=Scope.REQUESTS)
            for action, (schema, _) in ACTIONS.items()}


@api.post("/requests/<int:request_id>/<action>")
@documented("Move a request through the workflow", scope=Scope.REQUESTS,
            variant_argument="action", variants=_action_operations)
def act_on_request(request_id: int, action: str) -> Response:
    if action not in ACTIONS:
        raise NotFound(f"Unknown action {action!r}.", details={"actions": sorted(ACTIONS)})
    schema, handler = ACTIONS[action]
    data = parse_body(schema)
    moved = handler(current_actor(), request_id, data)
    return jsonify(request_out.dump(moved))
