"""Liveness and readiness: /healthz says the process is up, /readyz that its dependencies are."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, jsonify

log = logging.getLogger(__name__)
# A check raises when its dependency is not ready; it may return figures to show with it.
Check = Callable[[], Mapping[str, Any] | None]
_CHECKS = "custodian.readiness_checks"
# What /readyz says of each dependency.
OK, FAILING, UNAVAILABLE, UNKNOWN = "ok", "failing", "unavailable", "unknown"


class Failing(Exception):
    """Raised by a check whose dependency answers but is not doing its work (recent writes
    failed, a backlog grew too old), with the figures that show it."""

    def __init__(self, message: str, figures: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.figures = figures


@dataclass(frozen=True)
class _Entry:
    check: Check
    needs: str | None


def add_check(app: Flask, name: str, check: Check, *, needs: str | None = None) -> None:
    """One dependency /readyz reports on: ``check`` raises when it is not ready. A check
    that ``needs`` another says ``unknown`` while that one is not ok: the audit log's
    health means nothing while the database it lives in is down."""
    app.extensions.setdefault(_CHECKS, {})[name] = _Entry(check, needs)


def install(app: Flask) -> None:
    health = Blueprint("health", __name__)
    checks: Mapping[str, _Entry] = app.extensions.setdefault(_CHECKS, {})

    @health.get("/healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok"})

    @health.get("/readyz")
    def readyz() -> tuple[Response, int]:
        results: dict[str, str] = {}
        figures: dict[str, Mapping[str, Any]] = {}
        # Checks that need none first, so that the others can read their outcome.
        for name, entry in sorted(checks.items(), key=lambda item: item[1].needs is not None):
            if entry.needs is not None and results.get(entry.needs) != OK:
                results[name] = UNKNOWN
            else:
                results[name] = _run(name, entry.check, figures)
        ready = all(value == OK for value in results.values())
        body: dict[str, Any] = {
            "status": "ready" if ready else "unavailable",
            "checks": {name: results[name] for name in checks},
        }
        if figures:
            body["figures"] = figures
        return jsonify(body), 200 if ready else 503

    app.register_blueprint(health)


def _run(name: str, check: Check, figures: dict[str, Mapping[str, Any]]) -> str:
    """The check's outcome; the figures it shows, if any, go into ``figures``."""
    try:
        shown = check()
    except Failing as failing:
        log.warning("readiness check %s: %s", name, failing)
        if failing.figures is not None:
            figures[name] = failing.figures
        return FAILING
    except Exception:  # any failure means "not ready"; the log says why
        log.warning("readiness check %s failed", name, exc_info=True)
        return UNAVAILABLE
    if shown is not None:
        figures[name] = shown
    return OK
