"""CSRF protection for every state-changing request that rides on the session cookie.

A per-session random token must come back in the form field ``csrf_token`` or the
``X-CSRF-Token`` header. Requests carrying ``Authorization: Bearer`` are exempt: a browser
never attaches that header on its own, so a forged cross-site request cannot carry it.
Endpoints that other servers call (an OIDC token endpoint) opt out with ``csrf_exempt``.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, abort, current_app, request, session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_EXEMPT_ATTRIBUTE = "_csrf_exempt"
F = TypeVar("F", bound=Callable[..., object])


def csrf_token() -> str:
    token = session.get("csrf_token")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf_token"] = token
    return token


def csrf_exempt(view: F) -> F:
    setattr(view, _EXEMPT_ATTRIBUTE, True)
    return view


def install(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.before_request(_check_csrf)


def _check_csrf() -> None:
    if request.method in SAFE_METHODS or request.routing_exception is not None:
        return  # nothing to protect: no view runs, the 404/405 follows
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, _EXEMPT_ATTRIBUTE, False):
        return
    if request.headers.get("Authorization", "").startswith("Bearer "):
        return
    require_csrf_token()


def require_csrf_token() -> None:
    """For views that are ``csrf_exempt`` only for callers without a session."""
    expected = session.get("csrf_token")
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    if not isinstance(expected, str) or not hmac.compare_digest(expected, sent):
        abort(400, description="The form was stale or not sent by this site (CSRF check failed).")
