"""Personal API tokens: shown once, stored only as a SHA-256 hash, accepted as Bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity import Actor
from access.models import ApiToken, User
from audit.actions import AuditAction
from audit.services import record_event
from core.errors import Conflict, InvalidInput, NotFound

TOKEN_PREFIX = "cus_"  # noqa: S105  (a visible prefix, so leaked tokens are greppable)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    record: ApiToken


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(
    session: Session, actor: Actor, *, name: str, days: int | None, max_days: int, now: datetime
) -> IssuedToken:
    user = actor.require_user()
    lifetime = max_days if days is None else days
    if not 1 <= lifetime <= max_days:
        raise InvalidInput(
            f"A token lives between 1 and {max_days} days.", details={"days": lifetime}
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + timedelta(days=lifetime),
    )
    session.add(record)
    session.flush()
    record_event(
        session, actor.audit(), AuditAction.TOKEN_CREATE, now=now,
        target_type="api_token", target_id=record.id,
        details={"name": name, "expires_at": record.expires_at.isoformat()},
    )
    return IssuedToken(token, record)


def revoke_api_token(session: Session, actor: Actor, token_id: int, now: datetime) -> ApiToken:
    """Only the owner revokes; someone else's token id answers 404, so ids reveal nothing."""
    user = actor.require_user()
    record = session.get(ApiToken, token_id)
    if record is None or record.user_id != user.id:
        raise NotFound(f"You have no API token {token_id}.")
    if record.revoked_at is not None:
        raise Conflict(f"API token {token_id} is already revoked.",
                       details={"revoked_at": record.revoked_at.isoformat()})
    record.revoked_at = now
    record_event(session, actor.audit(), AuditAction.TOKEN_REVOKE, now=now,
                 target_type="api_token", target_id=record.id, details={"name": record.name})
    return record


def find_token_owner(session: Session, token: str, now: datetime) -> tuple[User, int] | None:
    """The user and token id for a live token, or None. One indexed lookup by hash."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    row = session.execute(
        select(User, ApiToken.id)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == hash_token(token),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > now,
        )
    ).first()
    return None if row is None else (row[0], row[1])
