"""One database session per request, opened on first use and closed at teardown.

Views never commit: the app commits once when the response is a success and rolls back
otherwise (app.py's last step), so an action and its audit event land together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, g
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock

_SESSION_FACTORY = "custodian.session_factory"
_CLOCK = "custodian.clock"


def install(app: Flask, session_factory: sessionmaker[Session], clock: Clock) -> None:
    app.extensions[_SESSION_FACTORY] = session_factory
    app.extensions[_CLOCK] = clock

    @app.teardown_request
    def _close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.close()


def factory_of(app: Flask) -> sessionmaker[Session]:
    """The app's session factory, for the install steps that hook into its sessions."""
    factory: sessionmaker[Session] = app.extensions[_SESSION_FACTORY]
    return factory


def clock_of(app: Flask) -> Clock:
    found: Clock = app.extensions[_CLOCK]
    return found


def db_session() -> Session:
    if "db_session" not in g:
        factory: sessionmaker[Session] = current_app.extensions[_SESSION_FACTORY]
        g.db_session = factory()
    session: Session = g.db_session
    return session


def session_factory() -> sessionmaker[Session]:
    factory: sessionmaker[Session] = current_app.extensions[_SESSION_FACTORY]
    return factory


def clock() -> Clock:
    found: Clock = current_app.extensions[_CLOCK]
    return found


def commit_if_open(commit: Callable[[Session], None] = Session.commit) -> None:
    """``commit`` lets the app watch the outcome (the audit alarm) without core knowing it."""
    session: Session | None = g.get("db_session")
    if session is not None:
        commit(session)


def mark_database_unavailable() -> None:
    """This request found the database down: what is left of it (the error page) must not
    ask the database again, or the 503 page itself fails."""
    g.database_unavailable = True


def database_unavailable() -> bool:
    return bool(g.get("database_unavailable", False))


def rollback_if_open() -> None:
    session: Session | None = g.get("db_session")
    if session is None:
        return
    try:
        session.rollback()
    except DBAPIError:
        # The connection itself is gone: drop it rather than fail the error response too.
        session.invalidate()
