"""Who is asking: the Flask side of identity (session via flask-login, or a Bearer token)."""

from __future__ import annotations

from flask import Flask, g, request
from flask_login import LoginManager, current_user

from access.identity import Actor, Origin
from access.models import User
from access.tokens import find_token_owner
from audit.actions import AuditAction
from core.errors import NotAuthenticated, RefusalNote
from core.request_id import current_request_id
from core.request_scope import clock, db_session

API_PREFIX = "/api/"


def install(app: Flask) -> None:
    manager = LoginManager()
    manager.init_app(app)
    manager.session_protection = "basic"

    manager.user_loader(_load_user)

    app.before_request(_authenticate_bearer)

    @app.context_processor
    def _template_identity() -> dict[str, object]:
        return {"actor": current_actor()}


def _load_user(user_id: str) -> User | None:
    return db_session().get(User, int(user_id)) if user_id.isdigit() else None


def _authenticate_bearer() -> None:
    """On the JSON API a Bearer token replaces the session; a bad one is refused outright.

    Elsewhere the header is not ours to read (the embedded IdP's userinfo takes its own).
    """
    header = request.headers.get("Authorization", "")
    if not request.path.startswith(API_PREFIX) or not header.startswith("Bearer "):
        return
    found = find_token_owner(db_session(), header.removeprefix("Bearer ").strip(), clock().now())
    if found is None:
        raise NotAuthenticated(
            "The API token is invalid, expired or revoked.",
            refusal=RefusalNote(AuditAction.TOKEN_REFUSED, details={"path": request.path[:200]}),
        )
    g.bearer_user, g.bearer_token_id = found


def current_actor() -> Actor:
    origin = Origin(
        ip=request.remote_addr,
        user_agent=request.user_agent.string or None,
        request_id=current_request_id(),
    )
    if "bearer_user" in g:
        return Actor(user=g.bearer_user, origin=origin, token_id=g.bearer_token_id)
    user = current_user if current_user.is_authenticated else None
    return Actor(user=user, origin=origin)
