"""The data-use agreement JSON API under /api/v1 (read, accept, publish)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from access.identity.current_actor import current_actor
from core.errors import NotFound
from core.scopes import Scope
from core.web.api import parse_body
from core.web.api_docs import documented
from core.web.request_scope import clock, db_session
from datasets.agreements.schemas import (
    AgreementAcceptIn,
    AgreementOut,
    AgreementPublishIn,
    AgreementStatusOut,
)
from datasets.agreements.versions import AgreementStatus, accept_agreement, agreement_status
from datasets.agreements.versions import publish_agreement as publish

api = Blueprint("agreements_api", __name__, url_prefix="/api/v1")


def status_body(status: AgreementStatus) -> dict[str, Any]:
    if status.agreement is None:
        raise NotFound("This dataset has no data-use agreement; nothing to accept.")
    agreement = status.agreement
    body: dict[str, Any] = AgreementStatusOut().dump({
        "dataset_id": agreement.dataset_id, "version": agreement.version,
        "text": agreement.text, "sha256": agreement.sha256, "created_at": agreement.created_at,
        "accepted": status.acceptance is not None,
        "accepted_at": status.acceptance.accepted_at if status.acceptance else None,
    })
    return body


@api.get("/datasets/<int:dataset_id>/agreement")
@documented("The dataset's current data-use agreement, and whether I accepted it",
            response=AgreementStatusOut, scope=Scope.CATALOGUE, public=True,
            description="404 when the dataset has no agreement (then nothing gates downloads).")
def current(dataset_id: int) -> Response:
    return jsonify(status_body(agreement_status(db_session(), current_actor(), dataset_id)))


@api.post("/datasets/<int:dataset_id>/agreement/accept")
@documented("Accept the current version: its number and the SHA-256 of the text I read",
            body=AgreementAcceptIn, response=AgreementStatusOut, scope=Scope.REQUESTS,
            description="409 agreement_outdated for an older version, 400 "
                        "agreement_hash_mismatch for another text.")
def accept(dataset_id: int) -> Response:
    data = parse_body(AgreementAcceptIn())
    actor = current_actor()
    accept_agreement(db_session(), actor, dataset_id, version=data["version"],
                     sha256=data["sha256"], now=clock().now())
    return jsonify(status_body(agreement_status(db_session(), actor, dataset_id)))


@api.post("/datasets/<int:dataset_id>/agreements")
@documented("Publish a new version (admins); everyone accepts it before the next download",
            body=AgreementPublishIn, response=AgreementOut, status=201, scope=Scope.ADMIN)
def publish_agreement(dataset_id: int) -> tuple[Response, int]:
    data = parse_body(AgreementPublishIn())
    published = publish(db_session(), current_actor(), dataset_id, text=data["text"],
                        now=clock().now())
    return jsonify(AgreementOut().dump(published)), 201
