"""Every error becomes the one JSON shape under /api (and /storage), or a friendly page.

No handler ever shows a stack trace or ``str()`` of an unexpected exception; those are
logged with the request id, which the response also carries so support can find the line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, current_app, jsonify, redirect, render_template, request
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from core.errors import DomainError, NotAuthenticated, RefusalNote
from core.web.api import error_response
from core.web.request_id import current_request_id
from core.web.request_scope import mark_database_unavailable, rollback_if_open

log = logging.getLogger(__name__)

RefusalRecorder = Callable[[RefusalNote], None]
# An API whose standard fixes another error body (GA4GH DRS: {"msg", "status_code"}).
ErrorShape = Callable[[int, str, str, Mapping[str, Any]], dict[str, Any]]
JSON_PREFIXES = ("/api/", "/storage/", "/dev-idp/token", "/dev-idp/userinfo", "/metrics", "/ga4gh/")
_SHAPES = "custodian.error_shapes"
PAGE_TITLES = {
    400: "Something in that request was not right",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Not possible right now",
    413: "Too large",
    429: "Too many requests",
    500: "Something went wrong",
    502: "A service we depend on did not answer",
    503: "Temporarily unavailable",
}


def install(app: Flask, record_refusal: RefusalRecorder) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError) -> Response:
        rollback_if_open()
        if error.refusal is not None:
            record_refusal(error.refusal)
        if isinstance(error, NotAuthenticated) and not wants_json():
            query = urlencode({"next": request.full_path.rstrip("?")})
            return redirect(f"/auth/login?{query}")  # type: ignore[return-value]
        response = respond(error.status, error.code, error.message, dict(error.details))
        if error.retry_after is not None:
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        rollback_if_open()
        status = error.code or 500
        code = (error.name or "error").lower().replace(" ", "_")
        response = respond(status, code, error.description or PAGE_TITLES.get(status, "Error"))
        # A 405 says which methods would do (RFC 9110); the 503 of an outage when to retry.
        for name, value in error.get_headers():
            if name in ("Allow", "Retry-After"):
                response.headers[name] = value
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeoutError)
    def _database_unavailable(error: Exception) -> Response:
        """The database is down or saturated: tell clients to come back, log no statement."""
        mark_database_unavailable()
        rollback_if_open()
        log.error(
            "database unavailable (request id %s): %s", current_request_id(), type(error).__name__
        )
        response = respond(
            503,
            "database_unavailable",
            "The database is unavailable right now. Please retry shortly.",
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(DataError)
    def _value_out_of_range(error: DataError) -> Response:
        """A value the schemas let through but the database refused: still the client's."""
        rollback_if_open()
        log.warning("database refused a value (request id %s)", current_request_id())
        return respond(400, "invalid_input", "A value is out of range or too long.")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        rollback_if_open()
        log.exception("unhandled error (request id %s)", current_request_id())
        return respond(
            500,
            "internal_error",
            "An unexpected error occurred. It has been logged; quote the request id.",
        )


def register_error_shape(app: Flask, prefix: str, shape: ErrorShape) -> None:
    app.extensions.setdefault(_SHAPES, {})[prefix] = shape


# A signed URL that failed its check, in a browser: the heading says what happened.
LINK_TITLES = {
    "expired": "This download link has expired",
    "tampered": "This download link is not valid",
}
# Signed URLs are opened by scripts and by browsers alike: a browser (asking for HTML
# before JSON) gets a page, everything else the JSON error.
BROWSER_OR_SCRIPT_PREFIXES = ("/storage/",)


def wants_json() -> bool:
    if request.path.startswith(BROWSER_OR_SCRIPT_PREFIXES):
        best = request.accept_mimetypes.best_match(["application/json", "text/html"])
        return best != "text/html"
    return request.path.startswith(JSON_PREFIXES)


def respond(
    status: int, code: str, message: str, details: dict[str, object] | None = None
) -> Response:
    shape = next(
        (
            shape
            for prefix, shape in current_app.extensions.get(_SHAPES, {}).items()
            if request.path.startswith(prefix)
        ),
        None,
    )
    if shape is not None:
        response = jsonify(shape(status, code, message, details or {}))
        response.status_code = status
    elif wants_json():
        response = error_response(status, code, message, details)
    else:
        shown = details or {}
        html = render_template(
            "error.html",
            title=LINK_TITLES.get(str(shown.get("reason")), PAGE_TITLES.get(status, "Error")),
            message=message,
            request_id=current_request_id(),
            fresh_link_page=shown.get("fresh_link_page"),
        )
        response = Response(html, status=status, mimetype="text/html")
    response.headers["X-Request-ID"] = current_request_id()
    return response
