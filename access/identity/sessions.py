"""Browser sessions kept on the server: signing out ends a session everywhere its cookie
was copied, "sign out everywhere" ends all of a user's, and a session dies by itself after
an idle period or its absolute lifetime, whichever comes first.

Flask's signed cookie still carries the session, but only as a pointer: the row decides.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from access.identity.models import User, UserSession
from audit.log.actions import AuditAction
from audit.log.append import record_event
from core.errors import NotFound

# Writing last-seen on every request would make every page a write; this often is enough
# for an idle timeout counted in minutes.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class SessionTerms:
    idle: timedelta
    absolute: timedelta


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def start_session(session: Session, user: User, *, terms: SessionTerms, now: datetime) -> str:
    """A new session for a user who just signed in; returns the id the cookie carries."""
    session_id = secrets.token_urlsafe(32)
    session.add(UserSession(user_id=user.id, id_hash=_hash(session_id), created_at=now,
                            last_seen_at=now, expires_at=now + terms.absolute))
    session.flush()
    return session_id


def live_session_user(session: Session, session_id: str, *, terms: SessionTerms,
                      now: datetime) -> User | None:
    """The user of a live session, or None when it ended, idled out or outlived its term.
    One indexed lookup; the last-seen time is written at most once a minute."""
    if not session_id or len(session_id) > 100:
        return None
    record = session.scalar(select(UserSession).where(UserSession.id_hash == _hash(session_id)))
    if record is None or record.ended_at is not None:
        return None
    if now >= record.expires_at or now - record.last_seen_at >= terms.idle:
        return None
    if now - record.last_seen_at >= TOUCH_EVERY:
        record.last_seen_at = now
    return session.get(User, record.user_id)


def end_session(session: Session, session_id: str, *, now: datetime, reason: str) -> None:
    session.execute(update(UserSession)
                    .where(UserSession.id_hash == _hash(session_id),
                           UserSession.ended_at.is_(None))
                    .values(ended_at=now, ended_reason=reason))


def end_all_sessions(session: Session, actor: Actor, user_id: int, *, now: datetime,
                     reason: str) -> int:
    """End every live session of a user (themself, or an admin acting on them); audited
    with how many ended. Their API tokens are theirs to revoke and stay as they are."""
    if session.get(User, user_id) is None:
        raise NotFound(f"No user {user_id}.")
    ended = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None),
               UserSession.expires_at > now)
        .values(ended_at=now, ended_reason=reason)
        .execution_options(synchronize_session=False)
    )
    count = int(ended.rowcount or 0)  # type: ignore[attr-defined]
    record_event(session, actor.audit(), AuditAction.SESSION_END, now=now,
                 target_type="user", target_id=user_id,
                 details={"sessions": count, "reason": reason})
    return count
