"""Liveness and readiness: /healthz says the process is up, /readyz that its dependencies are."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, Flask, Response, jsonify

log = logging.getLogger(__name__)
# A check raises when its dependency is not ready; it may return figures to show with it.
Check = Callable[[], Mapping[str, Any] | None]
_CHECKS = "custodian.readiness_checks"


class Failing(Exception):
    """Raised by a check whose dependency answers but is not doing its work (recent writes
    failed, a backlog grew too old), with the figures that show it."""

    def __init__(self, message: str, figures: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.figures = figures


def add_check(app: Flask, name: str, check: Check) -> None:
    """One dependency /readyz reports on: ``check`` raises when it is not ready."""
    app.extensions.setdefault(_CHECKS, {})[name] = check


def install(app: Flask) -> None:
    health = Blueprint("health", __name__)
    checks: Mapping[str, Check] = app.extensions.setdefault(_CHECKS, {})

    @health.get("/healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok"})

    @health.get("/readyz")
    def readyz() -> tuple[Response, int]:
        results: dict[str, str] = {}
        figures: dict[str, Mapping[str, Any]] = {}
        for name, check in checks.items():
            try:
                shown = check()
                results[name] = "ok"
                if shown is not None:
                    figures[name] = shown
            except Failing as failing:
                log.warning("readiness check %s: %s", name, failing)
                results[name] = "failing"
                if failing.figures is not None:
                    figures[name] = failing.figures
            except Exception:  # any failure means "not ready"; the log says why
                log.warning("readiness check %s failed", name, exc_info=True)
                results[name] = "unavailable"
        ready = all(value == "ok" for value in results.values())
        body: dict[str, Any] = {"status": "ready" if ready else "unavailable",
                                "checks": results}
        if figures:
            body["figures"] = figures
        return jsonify(body), 200 if ready else 503

    app.register_blueprint(health)
