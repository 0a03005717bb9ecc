"""GA4GH DRS 1.5 under /ga4gh/drs/v1. Errors here are the spec's ``{"msg", "status_code"}``.

Authentication as for /api/v1: a personal API token (scope ``catalogue`` for objects,
``download`` for access URLs) or the session cookie; the declarations below carry the
scopes (core/web/api_docs.py). Object metadata is public, like the catalogue it mirrors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_login import current_user

from access.extensions import passport_verifier
from access.identity.current_actor import current_actor, limit_url_issuance
from access.passports.passport_grants import passport_grants
from config import Settings
from core.scopes import Scope
from core.web.api import parse_body, parse_query
from core.web.api_docs import documented
from core.web.csrf import csrf_exempt, require_csrf_token
from core.web.rate_limits import enforce
from core.web.request_scope import clock, db_session
from datasets.drs import objects as drs
from datasets.drs.schemas import (
    BulkAccessIn,
    BulkObjectIdsIn,
    BulkObjectsIn,
    ObjectQuery,
    PassportsIn,
    PostObjectIn,
)
from datasets.extensions import storage, store_health, url_lifetime

PREFIX = "/ga4gh/drs/v1"
api = Blueprint("drs_api", __name__, url_prefix=PREFIX)
_OWN_OPTIONS = {"provide_automatic_options": False}


def error_shape(status: int, code: str, message: str, details: Mapping[str, Any]) -> dict[str, Any]:
    """The spec's Error: our code and details folded into the message, nothing dropped."""
    extra = f" ({code}: {dict(details)})" if details else ""
    return {"msg": message + extra, "status_code": status}


@api.before_request
def _rate_limit() -> None:
    enforce("drs")
    if request.endpoint and request.endpoint.endswith(("get_access", "post_access", "bulk_access")):
        limit_url_issuance()


@api.before_request
def _csrf_for_sessions() -> None:
    """DRS clients POST without any session (anonymously or with a token) and need no CSRF
    token; a browser session still does, so no other site can spend it."""
    if request.method == "POST" and "bearer_principal" not in g and current_user.is_authenticated:
        require_csrf_token()


def context(passports: list[str] | None = None, *, bulk_length: int = 0) -> drs.DrsContext:
    """With ``passports`` (a POST body's), the datasets their visas grant for this request:
    verified, and audited, before any URL is issued; one bad visa refuses the request. A
    bulk request over the limit is refused first, before any broker's key is fetched."""
    settings: Settings = current_app.config["CUSTODIAN_SETTINGS"]
    now = clock().now()
    granted: frozenset[int] = frozenset()
    drs.check_bulk_length(bulk_length, settings.drs_max_bulk_request_length)
    if passports:
        actor = current_actor()
        actor.require_user()  # no broker's key is fetched for someone we do not know
        granted = frozenset(
            grant.dataset_id
            for grant in passport_grants(
                db_session(), actor, passports, now=now, verifier=passport_verifier()
            )
        )
    return drs.DrsContext(
        host=urlsplit(settings.public_url).netloc,
        storage=storage(),
        health=store_health(),
        lifetime=url_lifetime(),
        now=now,
        max_bulk=settings.drs_max_bulk_request_length,
        passport_issuers=tuple(broker.issuer for broker in settings.passport_trusted_brokers),
        bearer_issuers=(settings.public_url,),
        passport_dataset_ids=granted,
        cloud_region=drs.cloud_region(settings),
    )


@api.get("/service-info", **_OWN_OPTIONS)
@documented("DRS service-info", public=True)
def service_info() -> Response:
    settings: Settings = current_app.config["CUSTODIAN_SETTINGS"]
    return jsonify(drs.service_info(db_session(), context(), settings.public_url))


@api.get("/objects/<object_id>", **_OWN_OPTIONS)
@documented("A DrsObject", scope=Scope.CATALOGUE, public=True)
def get_object(object_id: str) -> Response:
    parse_query(ObjectQuery())
    return jsonify(drs.describe_object(db_session(), current_actor(), object_id, context()))


@api.post("/objects/<object_id>", **_OWN_OPTIONS)
@csrf_exempt  # checked above, for sessions only
@documented("A DrsObject (POST form, for passports)", scope=Scope.CATALOGUE, public=True)
def post_object(object_id: str) -> Response:
    parse_body(PostObjectIn())  # passports change nothing here: object metadata is public
    return jsonify(drs.describe_object(db_session(), current_actor(), object_id, context()))


@api.route("/objects/<object_id>", methods=["OPTIONS"])
@documented("How to authorize access to a DrsObject", public=True)
def object_options(object_id: str) -> Response:
    return jsonify(drs.object_authorizations(db_session(), object_id, context()))


@api.get("/objects/<object_id>/access/<access_id>", **_OWN_OPTIONS)
@documented("A signed URL for a DrsObject's bytes", scope=Scope.DOWNLOAD)
def get_access(object_id: str, access_id: str) -> Response:
    issued = drs.access_url(db_session(), current_actor(), object_id, access_id, context())
    return jsonify({"url": issued.url})


@api.post("/objects/<object_id>/access/<access_id>", **_OWN_OPTIONS)
@csrf_exempt  # checked above, for sessions only
@documented("A signed URL for a DrsObject's bytes (POST form, for passports)", scope=Scope.DOWNLOAD)
def post_access(object_id: str, access_id: str) -> Response:
    body = parse_body(PassportsIn())
    issued = drs.access_url(
        db_session(), current_actor(), object_id, access_id, context(body.get("passports"))
    )
    return jsonify({"url": issued.url})


@api.post("/objects", **_OWN_OPTIONS)
@csrf_exempt  # checked above, for sessions only
@documented("Several DrsObjects at once", scope=Scope.CATALOGUE, public=True)
def bulk_objects() -> Response:
    parse_query(ObjectQuery())
    body = parse_body(BulkObjectsIn())  # passports change nothing: metadata is public
    return jsonify(
        drs.describe_objects(db_session(), current_actor(), body["bulk_object_ids"], context())
    )


@api.route("/objects", methods=["OPTIONS"])
@documented("How to authorize access to several DrsObjects", public=True)
def bulk_options() -> Response:
    body = parse_body(BulkObjectIdsIn())
    return jsonify(drs.bulk_authorizations(db_session(), body["bulk_object_ids"], context()))


@api.post("/objects/access", **_OWN_OPTIONS)
@csrf_exempt  # checked above, for sessions only
@documented("Signed URLs for several DrsObjects", scope=Scope.DOWNLOAD)
def bulk_access() -> Response:
    body = parse_body(BulkAccessIn())
    pairs = [
        (item["bulk_object_id"], access_id)
        for item in body["bulk_object_access_ids"]
        for access_id in item["bulk_access_ids"]
    ]
    return jsonify(
        drs.access_urls(
            db_session(),
            current_actor(),
            pairs,
            context(body.get("passports"), bulk_length=len(pairs)),
        )
    )
