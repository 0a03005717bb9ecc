"""The request JSON API under /api/v1: list, file and read requests, move them through the
workflow, and a committee's queue."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from access.extensions import dataset_directory, request_collaborators
from access.identity.actor import Actor
from access.identity.current_actor import current_actor
from access.requests import review
from access.requests.actions import ACTIONS, action_named, take_action
from access.requests.admin_list import stuck_requests
from access.requests.applicant import requests_filed_by, requests_shared_with
from access.requests.endorsement import endorsement_queue
from access.requests.explained.detail import describe_request
from access.requests.filing import create_request
from access.requests.models import AccessRequest
from access.requests.moves import get_visible_request
from access.requests.schemas import (
    CommitteeQueueQuery,
    RequestDetailOut,
    RequestExtrasOut,
    RequestIn,
    RequestListOut,
    RequestListQuery,
    RequestOut,
)
from core.scopes import Scope
from core.web.api import parse_body, parse_query
from core.web.api_docs import Operation, documented
from core.web.request_scope import clock, db_session

api = Blueprint("requests_api", __name__, url_prefix="/api/v1")
request_out = RequestOut()


@api.get("/requests")
@documented("My requests, or the requests waiting for me to review", query=RequestListQuery,
            response=RequestListOut, scope=Scope.REQUESTS)
def list_requests() -> Response:
    scope = parse_query(RequestListQuery())["scope"]
    actor, session, now = current_actor(), db_session(), clock().now()
    if scope == "mine":
        found = requests_filed_by(session, actor, now)
    elif scope == "shared":
        found = requests_shared_with(session, actor, now)
    elif scope == "review":
        found = review.review_queue(session, actor)
    elif scope == "held":
        found = stuck_requests(session, actor)
    else:
        found = endorsement_queue(session, actor)
    return jsonify({"requests": request_out.dump(found, many=True)})


@api.post("/requests")
@documented("File a data-access request (a draft)", body=RequestIn, response=RequestOut,
            status=201, scope=Scope.REQUESTS)
def file_request() -> tuple[Response, int]:
    data = parse_body(RequestIn())
    created = create_request(
        db_session(), current_actor(), directory=dataset_directory(), now=clock().now(), **data
    )
    return jsonify(request_out.dump(created)), 201


@api.get("/requests/<int:request_id>")
@documented("One data-access request I may see", response=RequestDetailOut,
            scope=Scope.REQUESTS)
def show_request(request_id: int) -> Response:
    actor = current_actor()
    found = get_visible_request(db_session(), actor, request_id, clock().now())
    return jsonify(_detail(actor, found))


def _action_operations() -> dict[str, Operation]:
    """One documented path per action, read from ACTIONS when the document is built."""
    return {str(name): Operation(f"Move a request: {name}", body=action.body,
                                 response=RequestDetailOut, scope=Scope.REQUESTS,
                                 status=201 if action.creates else 200)
            for name, action in ACTIONS.items()}


@api.post("/requests/<int:request_id>/<action>")
@documented("Move a request through the workflow", scope=Scope.REQUESTS,
            variant_argument="action", variants=_action_operations)
def act_on_request(request_id: int, action: str) -> tuple[Response, int]:
    chosen = action_named(action)
    data = parse_body(chosen.body())
    actor = current_actor()
    moved = take_action(db_session(), actor, request_id, action, data, now=clock().now(),
                        collaborators=request_collaborators())
    return jsonify(_detail(actor, moved)), 201 if chosen.creates else 200


@api.get("/committees/<int:committee_id>/queue")
@documented("The committee's requests (members), by state, dataset and submission date",
            query=CommitteeQueueQuery, response=RequestListOut, scope=Scope.REQUESTS)
def committee_queue(committee_id: int) -> Response:
    """The committee's requests; ``state`` (comma-separated), ``dataset_id``, ``submitted_from``,
    ``submitted_to`` (dates, inclusive). Without ``state``: those waiting for a decision."""
    query = parse_query(CommitteeQueueQuery())
    found = review.committee_queue(
        db_session(), current_actor(), committee_id,
        states=query.get("state") or review.REVIEW_STATES, dataset_id=query.get("dataset_id"),
        submitted_from=query.get("submitted_from"), submitted_to=query.get("submitted_to"),
        now=clock().now())
    return jsonify({"requests": request_out.dump(found, many=True)})


def _detail(actor: Actor, request: AccessRequest) -> dict[str, Any]:
    body: dict[str, Any] = request_out.dump(request)
    body.update(RequestExtrasOut().dump(describe_request(db_session(), actor, request)))
    return body
