"""Liveness and readiness: /healthz says the process is up, /readyz that its dependencies are."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from flask import Blueprint, Flask, Response, jsonify

log = logging.getLogger(__name__)
Check = Callable[[], None]
_CHECKS = "custodian.readiness_checks"


class Failing(Exception):
    """Raised by a check whose dependency answers but whose recent writes failed."""


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
        for name, check in checks.items():
            try:
                check()
                results[name] = "ok"
            except Failing as failing:
                log.warning("readiness check %s: %s", name, failing)
                results[name] = "failing"
            except Exception:  # any failure means "not ready"; the log says why
                log.warning("readiness check %s failed", name, exc_info=True)
                results[name] = "unavailable"
        ready = all(value == "ok" for value in results.values())
        return jsonify({"status": "ready" if ready else "unavailable", "checks": results}), (
            200 if ready else 503
        )

    app.register_blueprint(health)
