"""CSRF protection for every state-changing request that rides on the session cookie.

A per-session random token must come back in the form field ``csrf_token`` or the
``X-CSRF-Token`` header. A request that authenticated with a Bearer token is exempt: it
does not ride on the cookie. The mere header is not enough: where no token is read (pages)
or a bad one is sent alongside the cookie, the cookie is what acts, so CSRF still applies.
Endpoints that other servers call (an OIDC token endpoint) opt out with ``csrf_exempt``.
Every rejection is audited through the recorder the app passes in.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, request, session

from core.errors import InvalidInput, RefusalNote

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_EXEMPT_ATTRIBUTE = "_csrf_exempt"
F = TypeVar("F", bound=Callable[..., object])
_BEARER_CHECK = "custodian.csrf.bearer_check"
CSRF_REFUSED = "csrf:refused"  # audit/log/actions.py names it too (core cannot import audit)


class CsrfRejected(InvalidInput):
    code = "csrf_failed"


def csrf_token() -> str:
    token = session.get("csrf_token")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf_token"] = token
    return token


def csrf_exempt(view: F) -> F:
    setattr(view, _EXEMPT_ATTRIBUTE, True)
    return view


def install(app: Flask, token_authenticated: Callable[[], bool]) -> None:
    """``token_authenticated`` says whether this request proved itself with an API token
    (and refuses a bad one); only access knows tokens."""
    app.extensions[_BEARER_CHECK] = token_authenticated
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.before_request(_check_csrf)


def _check_csrf() -> None:
    if request.method in SAFE_METHODS or request.routing_exception is not None:
        return  # nothing to protect: no view runs, the 404/405 follows
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, _EXEMPT_ATTRIBUTE, False):
        return
    if current_app.extensions[_BEARER_CHECK]():
        return
    require_csrf_token()


def require_csrf_token() -> None:
    """For views that are ``csrf_exempt`` only for callers without a session."""
    expected = session.get("csrf_token")
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    if not isinstance(expected, str) or not hmac.compare_digest(expected, sent):
        raise CsrfRejected(
            "The form was stale or not sent by this site (CSRF check failed).",
            refusal=RefusalNote(CSRF_REFUSED, details={"path": request.path[:200],
                                                       "method": request.method}))
