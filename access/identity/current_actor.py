"""Who is asking: the Flask side of identity (session via flask-login, or a Bearer token)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, g, request, session
from flask_login import LoginManager, current_user

from access.identity.actor import Actor, Origin
from access.identity.models import User
from access.identity.sessions import SessionTerms, live_session_user
from access.tokens import find_live_token, refused_token
from audit.log.actions import AuditAction
from audit.log.append import record_refusal
from audit.readers import AuditReader, reader_for
from core.errors import Forbidden, NotAuthenticated, RefusalNote
from core.web.api_docs import operation_of
from core.web.rate_limits import count_failure, enforce, refuse_if_blocked
from core.web.request_id import current_request_id
from core.web.request_scope import clock, database_unavailable, db_session, session_factory

API_PREFIX = "/api/"
# Where a personal API token may stand in for the session: our JSON API and GA4GH DRS.
TOKEN_PREFIXES = (API_PREFIX, "/ga4gh/")


def install(app: Flask) -> None:
    manager = LoginManager()
    # Not flask-login's context processor: it loads the user for every template, the
    # outage page's too. Templates get ``actor`` from the one below instead.
    manager.init_app(app, add_context_processor=False)
    manager.session_protection = "basic"

    manager.user_loader(_load_user)

    app.before_request(_authenticate_bearer)
    app.before_request(_check_token_scope)

    @app.context_processor
    def _template_identity() -> dict[str, object]:
        # Loading the signed-in user needs the database: the outage page shows no one.
        return {"actor": None if database_unavailable() else current_actor()}


SESSION_ID = "sid"  # the key of the server-side session's id in the signed cookie


def session_terms() -> SessionTerms:
    settings = current_app.config["CUSTODIAN_SETTINGS"]
    return SessionTerms(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_max_hours),
    )


def _load_user(user_id: str) -> User | None:
    """The cookie's user, only while its server-side session lives: loaded afresh on each
    request, so ended sessions and changed roles count at once."""
    session_id = session.get(SESSION_ID)
    if not isinstance(session_id, str):
        return None
    user = live_session_user(db_session(), session_id, terms=session_terms(), now=clock().now())
    return user if user is not None and str(user.id) == user_id else None


def authenticated_by_token() -> bool:
    """Whether this request proved itself with a live API token (a bad one is refused).

    CSRF asks this before the token is otherwise read: only then is the cookie not what acts.
    """
    _authenticate_bearer()
    return "bearer_principal" in g


def _authenticate_bearer() -> None:
    """On the JSON API a Bearer token replaces the session; a bad one is refused outright.

    Elsewhere the header is not ours to read (the embedded IdP's userinfo takes its own).
    """
    if "bearer_checked" in g:
        return
    g.bearer_checked = True
    header = request.headers.get("Authorization", "")
    if not request.path.startswith(TOKEN_PREFIXES) or not header.startswith("Bearer "):
        return
    refuse_if_blocked("bad_tokens")  # someone guessing tokens from here: not one more try
    token, now = header.removeprefix("Bearer ").strip(), clock().now()
    found = find_live_token(db_session(), token, now)
    if found is None:
        count_failure("bad_tokens")
        reason, token_id = refused_token(db_session(), token, now)
        raise NotAuthenticated(
            "The API token is invalid, expired or revoked.",
            refusal=RefusalNote(
                AuditAction.TOKEN_REFUSED,
                None if token_id is None else "api_token",
                None if token_id is None else str(token_id),
                {"path": request.path[:200], "reason": reason},
            ),
        )
    g.bearer_principal, g.bearer_token_id, g.bearer_scopes = (
        found.principal, found.token_id, found.scopes)


def _check_token_scope() -> None:
    """A token reaches only routes that declare the scope it holds (core/web/api_docs.py).

    A route with no declaration accepts no token: new routes are closed to tokens until
    someone decides which scope they need.
    """
    if "bearer_principal" not in g or request.routing_exception is not None:
        return
    operation = operation_of(current_app.view_functions.get(request.endpoint or ""))
    if operation is None:
        raise Forbidden(
            "This endpoint does not accept API tokens; sign in instead.",
            details={"path": request.path[:200]},
            refusal=RefusalNote(
                AuditAction.TOKEN_REFUSED,
                details={"path": request.path[:200], "reason": "endpoint_takes_no_token"},
            ),
        )
    if operation.scope is not None and operation.scope not in g.bearer_scopes:
        scope = str(operation.scope)  # the scope's name, never the enum's repr
        raise Forbidden(
            f'This API token lacks the scope "{scope}" that this endpoint needs. '
            f'Create a token with the scope "{scope}".',
            details={"missing_scope": scope, "token_scopes": sorted(g.bearer_scopes)},
            refusal=RefusalNote(
                AuditAction.TOKEN_REFUSED,
                details={
                    "path": request.path[:200],
                    "reason": "missing_scope",
                    "missing_scope": scope,
                },
            ),
        )


def current_actor() -> Actor:
    origin = Origin(
        ip=request.remote_addr,
        user_agent=request.user_agent.string or None,
        request_id=current_request_id(),
    )
    if "bearer_principal" in g:
        return Actor(origin=origin, token_id=g.bearer_token_id, scopes=g.bearer_scopes,
                     principal=g.bearer_principal, load_user=_load_bearer_user)
    user = current_user if current_user.is_authenticated else None
    return Actor(user=user, origin=origin)


def _load_bearer_user(user_id: int) -> User | None:
    """The whole user behind a token, for the use cases that read more than its principal:
    in the request's session, so it is loaded once however many actors ask."""
    return db_session().get(User, user_id)


def limit_url_issuance() -> None:
    """Signed URLs are counted per person (or per address when anonymous), wherever asked."""
    user_id = current_actor().user_id
    enforce("urls", f"user:{user_id}" if user_id is not None else None)


def record_refused(note: RefusalNote) -> None:
    """Record a refused attempt by whoever is asking, in a transaction of its own (the
    refusing one is rolled back); core's error handler calls it for every domain error
    that carries a RefusalNote."""
    record_refusal(
        session_factory(),
        current_actor().audit(),
        AuditAction(note.action),
        now=clock().now(),
        target_type=note.target_type,
        target_id=note.target_id,
        details=note.details,
    )


def audit_reader() -> AuditReader:
    """The audit package cannot see users: it is told who reads, by their global roles."""
    actor = current_actor()
    principal = actor.require_principal()
    roles = frozenset(held.role for held in principal.roles if held.institution_id is None)
    return reader_for(principal.id, roles, actor.audit(), path=request.path)
