"""The download JSON API under /api/v1: a short-lived signed URL for one file."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from access.extensions import passport_verifier
from access.identity.current_actor import current_actor, limit_url_issuance
from access.passports.passport_grants import passport_grants
from core.scopes import Scope
from core.web.api import parse_body, parse_query
from core.web.api_docs import documented
from core.web.request_scope import clock, db_session
from datasets.downloads.schemas import SignedUrlOut, url_query, url_with_passports
from datasets.downloads.signed_urls import issue_signed_url
from datasets.extensions import storage, store_health, url_lifetime

api = Blueprint("downloads_api", __name__, url_prefix="/api/v1")
_SIGNED_URL_OUT = SignedUrlOut()  # built once: a schema's construction costs each URL


@api.get("/files/<int:file_id>/url")
@documented(
    "A short-lived signed download URL; 403 without a live grant on the dataset",
    query=lambda: url_query(url_lifetime().max_seconds),
    response=SignedUrlOut,
    scope=Scope.DOWNLOAD,
    description="Open-tier files need no sign-in.",
)
def signed_url(file_id: int) -> Response:
    limit_url_issuance()
    query = parse_query(url_query(url_lifetime().max_seconds))
    issued = issue_signed_url(
        db_session(),
        current_actor(),
        file_id,
        storage=storage(),
        health=store_health(),
        lifetime=url_lifetime(),
        now=clock().now(),
        expires_in=query["expires_in"],
    )
    return jsonify(_SIGNED_URL_OUT.dump(issued))


@api.post("/files/<int:file_id>/url")
@documented(
    "As the GET, with GA4GH Passports whose visas count as grants for this request",
    body=lambda: url_with_passports(url_lifetime().max_seconds),
    response=SignedUrlOut,
    scope=Scope.DOWNLOAD,
    description="403 passport_refused names each refused visa and why.",
)
def signed_url_with_passports(file_id: int) -> Response:
    limit_url_issuance()
    data = parse_body(url_with_passports(url_lifetime().max_seconds))
    actor, now = current_actor(), clock().now()
    actor.require_user()  # no key is fetched on behalf of someone we do not know
    granted = passport_grants(
        db_session(), actor, data["passports"], now=now, verifier=passport_verifier()
    )
    issued = issue_signed_url(
        db_session(),
        actor,
        file_id,
        storage=storage(),
        health=store_health(),
        lifetime=url_lifetime(),
        now=now,
        expires_in=data["expires_in"],
        passport_dataset_ids={g.dataset_id for g in granted},
    )
    return jsonify(_SIGNED_URL_OUT.dump(issued))
