"""GA4GH htsget 1.3 under /ga4gh/htsget/v1: tickets for region slices of indexed VCFs and
BAMs, whose ids are the catalogue's file ids (as for DRS). Errors are the spec's
``{"htsget": {"error", "message"}}``; CORS as the spec asks (the request's Origin echoed,
preflights for GET and POST answered for 30 days; never credentials, so a browser page
elsewhere cannot spend a visitor's session cookie).

Authentication as for /api/v1: a personal API token with scope ``download``, or the session
cookie (whose POSTs need the CSRF token).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_login import current_user

from access.identity.current_actor import current_actor
from config import Settings
from core.errors import InvalidInput
from core.scopes import Scope
from core.web.api_docs import documented
from core.web.csrf import csrf_exempt, require_csrf_token
from core.web.request_scope import clock, db_session
from datasets.extensions import htsget_cache, storage, store_health, url_lifetime
from datasets.htsget import queries
from datasets.htsget.errors import PayloadTooLarge
from datasets.htsget.queries import Endpoint
from datasets.htsget.tickets import TicketContext, issue_ticket

PREFIX = "/ga4gh/htsget/v1"
VERSION = "1.3.0"
CONTENT_TYPE = f"application/vnd.ga4gh.htsget.v{VERSION}+json; charset=utf-8"
MAX_BODY_BYTES = 64 * 1024
PREFLIGHT_SECONDS = 30 * 24 * 3600
ERRORS = {
    401: "InvalidAuthentication",
    403: "PermissionDenied",
    404: "NotFound",
    413: "PayloadTooLarge",
}
CODES = {"unsupported_format": "UnsupportedFormat", "invalid_range": "InvalidRange"}
api = Blueprint("htsget_api", __name__, url_prefix=PREFIX)
_OWN_OPTIONS = {"provide_automatic_options": False}


def error_shape(status: int, code: str, message: str, details: Mapping[str, Any]) -> dict[str, Any]:
    """The spec's error types by status; what has none in its table keeps a plain name."""
    if status >= 500:
        name = "ServiceUnavailable" if status == 503 else "InternalError"
    else:
        name = CODES.get(code) or ERRORS.get(status, "InvalidInput")
    extra = f" ({code}: {dict(details)})" if details else ""
    return {"htsget": {"error": name, "message": message + extra}}


@api.before_request
def _csrf_for_sessions() -> None:
    """As for DRS: clients POST with a token and need no CSRF token; a browser session does."""
    if request.method == "POST" and "bearer_principal" not in g and current_user.is_authenticated:
        require_csrf_token()


@api.after_request
def _cors(response: Response) -> Response:
    origin = request.headers.get("Origin")
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.vary.add("Origin")
    return response


def _service_info(endpoint: Endpoint) -> Response:
    settings: Settings = current_app.config["CUSTODIAN_SETTINGS"]
    host = settings.public_url.split("://", 1)[-1].split("/", 1)[0].split(":")[0]
    return _json({
        "id": ".".join(reversed(host.split("."))) + f".htsget.{endpoint.value}",
        "name": f"Custodian htsget ({endpoint.value})",
        "type": {"group": "org.ga4gh", "artifact": "htsget", "version": VERSION},
        "description": f"Region slices of indexed {' and '.join(endpoint.served)} files, "
                       "each in the format it is stored in, under the same "
                       "grants, agreements, passports and audit as downloads.",
        "organization": {"name": host, "url": settings.public_url},
        "documentationUrl": f"{settings.public_url}/api/docs",
        "version": "1.0.0",
        "htsget": {"datatype": endpoint.value, "formats": list(endpoint.served),
                   "fieldsParameterEffective": False, "tagsParametersEffective": False},
    })


@api.get("/reads/service-info", **_OWN_OPTIONS)
@documented("htsget service-info of the reads endpoint", public=True)
def reads_service_info() -> Response:
    return _service_info(Endpoint.READS)


@api.get("/variants/service-info", **_OWN_OPTIONS)
@documented("htsget service-info of the variants endpoint", public=True)
def variants_service_info() -> Response:
    return _service_info(Endpoint.VARIANTS)


@api.get("/<any(reads, variants):endpoint>/<object_id>", **_OWN_OPTIONS)
@documented(
    "An htsget ticket: the URLs whose bytes make the slice of an indexed file", scope=Scope.DOWNLOAD
)
def get_ticket(endpoint: str, object_id: str) -> Response:
    query = queries.from_query(Endpoint(endpoint), request.args.to_dict(flat=False))
    return _ticket(Endpoint(endpoint), object_id, query)


@api.post("/<any(reads, variants):endpoint>/<object_id>", **_OWN_OPTIONS)
@csrf_exempt  # checked above, for sessions only
@documented("An htsget ticket for several regions (POST form)", scope=Scope.DOWNLOAD)
def post_ticket(endpoint: str, object_id: str) -> Response:
    if request.args:
        raise InvalidInput("A POST takes its parameters in the body, not the query string.")
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The body may have at most {MAX_BODY_BYTES} bytes.")
    body = request.get_json(silent=True) if request.get_data(cache=True) else {}
    if body is None:
        raise InvalidInput("The request body must be JSON.")
    return _ticket(Endpoint(endpoint), object_id, queries.from_body(Endpoint(endpoint), body))


@api.route("/<any(reads, variants):endpoint>/<object_id>", methods=["OPTIONS"])
@documented("CORS preflight of a ticket or service-info URL", public=True)
def preflight(endpoint: str, object_id: str) -> Response:
    method = request.headers.get("Access-Control-Request-Method", "")
    response = Response(status=204)
    if method in ("GET", "POST"):
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_SECONDS)
        asked = request.headers.get("Access-Control-Request-Headers")
        if asked:
            response.headers["Access-Control-Allow-Headers"] = asked
    return response


def _ticket(endpoint: Endpoint, object_id: str, query: queries.SliceQuery) -> Response:
    ctx = TicketContext(
        storage=storage(),
        health=store_health(),
        lifetime=url_lifetime(),
        cache=htsget_cache(),
        now=clock().now(),
    )
    return _json(
        issue_ticket(db_session(), current_actor(), endpoint, object_id, query, ctx).body()
    )


def _json(body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.headers["Content-Type"] = CONTENT_TYPE
    return response
