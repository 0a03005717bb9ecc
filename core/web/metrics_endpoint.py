"""The Flask side of metrics: time every request, serve ``/metrics`` to the scraper.

Requests are labelled by their URL rule (``/api/v1/files/<int:file_id>/url``), never the raw
path, and by a closed set of methods, so no client can make the series grow without bound.
"""

from __future__ import annotations

import hmac
import time

from flask import Blueprint, Flask, Response, g, request, request_finished, request_started

from core import metrics
from core.errors import NotAuthenticated

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def install(app: Flask, token: str | None) -> None:
    """Count requests and mount /metrics; ``token`` None means a public endpoint."""
    request_started.connect(_start, app)
    request_finished.connect(_finish, app)
    blueprint = Blueprint("metrics", __name__)

    @blueprint.get("/metrics")
    def scrape() -> Response:
        if token is not None and not _bearer_matches(token):
            raise NotAuthenticated("A valid metrics token is required (Authorization: Bearer).")
        body, content_type = metrics.exposition()
        return Response(body, content_type=content_type)

    app.register_blueprint(blueprint)


def _bearer_matches(token: str) -> bool:
    header = request.headers.get("Authorization", "")
    presented = header.removeprefix("Bearer ") if header.startswith("Bearer ") else ""
    return hmac.compare_digest(presented.encode(), token.encode())


def _start(_app: Flask, **_extra: object) -> None:
    g.metrics_started = time.perf_counter()


def _finish(_app: Flask, response: Response, **_extra: object) -> None:
    """Runs once per request, after every after_request hook, error responses included."""
    started: float = g.pop("metrics_started")
    rule = request.url_rule
    metrics.observe_request(
        request.method if request.method in _METHODS else "OTHER",
        rule.rule if rule is not None else "unmatched",
        response.status_code,
        time.perf_counter() - started,
    )
