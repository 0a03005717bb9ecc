"""Personal API tokens: shown once, stored only as a SHA-256 hash, accepted as Bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Exists, String, bindparam, exists, select
from sqlalchemy.orm import Session

from access.identity.actor import Actor, Principal, RoleHeld
from access.identity.models import RoleAssignment, User
from access.models import ApiToken
from audit.log.actions import AuditAction
from audit.log.append import record_event
from core.db import UTCDateTime
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, RefusalNote
from core.scopes import ALL_SCOPES, DEFAULT_SCOPES, decode_scopes, encode_scopes

TOKEN_PREFIX = "cus_"  # noqa: S105  (a visible prefix, so leaked tokens are greppable)
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class IssuedToken:
    token: str
    record: ApiToken


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(
    session: Session,
    actor: Actor,
    *,
    name: str,
    days: int | None,
    max_days: int,
    now: datetime,
    scopes: Collection[str] | None = None,
    default_days: int = DEFAULT_DAYS,
) -> IssuedToken:
    """A new token for the actor; without ``scopes``, browse and download only (of those,
    the ones a token asking holds): more power must be asked for by name.

    A token made by a token never has more scopes, nor lives longer, than its maker: a
    narrow token handed to a job cannot be turned into a wider or longer-lived one.
    """
    user = actor.require_user()
    maker = None if actor.token_id is None else session.get(ApiToken, actor.token_id)
    chosen, expires_at = token_terms(
        scopes, days, holder_scopes=actor.scopes, max_days=max_days, default_days=default_days,
        now=now, maker_expires_at=None if maker is None else maker.expires_at)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=expires_at,
        scopes=encode_scopes(chosen),
    )
    session.add(record)
    session.flush()
    record_event(
        session, actor.audit(), AuditAction.TOKEN_CREATE, now=now,
        target_type="api_token", target_id=record.id,
        details={"name": name, "expires_at": record.expires_at.isoformat(),
                 "scopes": sorted(chosen)},
    )
    return IssuedToken(token, record)


def token_terms(
    scopes: Collection[str] | None, days: int | None, *, holder_scopes: frozenset[str] | None,
    max_days: int, default_days: int, now: datetime, maker_expires_at: datetime | None,
) -> tuple[frozenset[str], datetime]:
    """The scopes and expiry a new token gets, or why it gets none.

    ``holder_scopes`` are those of the token asking (None for a session, which is not
    scoped); ``maker_expires_at`` is when that token ends. Without ``scopes`` a token gets
    the default ones the holder has; never more, and never a longer life than its maker's.
    """
    lifetime = min(default_days, max_days) if days is None else days
    if not 1 <= lifetime <= max_days:
        raise InvalidInput(
            f"A token lives between 1 and {max_days} days.",
            details={"days": lifetime, "max_days": max_days},
        )
    if scopes is None:
        scopes = DEFAULT_SCOPES if holder_scopes is None else DEFAULT_SCOPES & holder_scopes
    chosen = frozenset(scopes)
    unknown = chosen - ALL_SCOPES
    if unknown or not chosen:
        raise InvalidInput(
            "Choose one or more scopes: " + ", ".join(sorted(ALL_SCOPES)) + ".",
            details={"scopes": sorted(unknown), "allowed": sorted(ALL_SCOPES)},
        )
    expires_at = now + timedelta(days=lifetime)
    if holder_scopes is not None:
        beyond = chosen - holder_scopes
        if beyond:
            raise Forbidden(
                "A token cannot create a token with scopes it lacks itself: "
                + ", ".join(sorted(beyond)) + ".",
                details={"missing_scopes": sorted(beyond)},
            )
        if maker_expires_at is not None:
            expires_at = min(expires_at, maker_expires_at)
    return chosen, expires_at


def list_api_tokens(session: Session, actor: Actor, limit: int = 200) -> list[ApiToken]:
    """The actor's own tokens, newest first, revoked and expired ones too (never a secret:
    only hashes are stored)."""
    user = actor.require_user()
    return list(session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()).limit(limit)
    ))


def revoke_api_token(session: Session, actor: Actor, token_id: int, now: datetime) -> ApiToken:
    """Only the owner revokes; someone else's token id answers 404, so ids reveal nothing."""
    user = actor.require_user()
    record = session.get(ApiToken, token_id)
    if record is None or record.user_id != user.id:
        raise NotFound(f"You have no API token {token_id}.", refusal=RefusalNote(
            AuditAction.TOKEN_REFUSED, "api_token", str(token_id),
            {"reason": "not_yours" if record is not None else "no_such_token"}))
    if record.revoked_at is not None:
        raise Conflict(f"API token {token_id} is already revoked.",
                       details={"revoked_at": record.revoked_at.isoformat()})
    record.revoked_at = now
    record_event(session, actor.audit(), AuditAction.TOKEN_REVOKE, now=now,
                 target_type="api_token", target_id=record.id, details={"name": record.name})
    return record


@dataclass(frozen=True)
class LiveToken:
    principal: Principal
    token_id: int
    scopes: frozenset[str]


# Built once (the Bearer lookup runs on every API request): each request then skips
# building the expression and its cache key and goes straight to the compiled SQL. Rows,
# one per role (or one with no role), not ORM entities: of the user, every request reads
# only who and which roles, and building the ORM user with its roles cost a URL issuance a
# sixth of its Python time. A use case that reads more loads the user then (Actor.user).
_LIVE_TOKEN = (
    select(ApiToken.id, ApiToken.scopes, User.id, User.issuer, User.subject,
           RoleAssignment.role, RoleAssignment.institution_id)
    .join(User, User.id == ApiToken.user_id)
    .outerjoin(RoleAssignment, RoleAssignment.user_id == User.id)
    .where(
        ApiToken.token_hash == bindparam("token_hash", type_=String),
        ApiToken.revoked_at.is_(None),
        ApiToken.expires_at > bindparam("now", type_=UTCDateTime()),
    )
)


def find_live_token(session: Session, token: str, now: datetime) -> LiveToken | None:
    """Who holds a live token (a Principal: id, identity, roles), its id and scopes, or
    None. One indexed lookup by hash (the hash comparison happens in the index, so timing
    reveals nothing about the token), and one statement on every Bearer request, run on the
    session's connection in its transaction."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    rows = session.connection().execute(
        _LIVE_TOKEN, {"token_hash": hash_token(token), "now": now}
    ).all()
    if not rows:
        return None
    token_id, scopes, user_id, issuer, subject = rows[0][:5]
    roles = tuple(RoleHeld(role, institution) for *_, role, institution in rows
                  if role is not None)
    return LiveToken(Principal(user_id, issuer, subject, roles), token_id,
                     decode_scopes(scopes))


def refused_token(session: Session, token: str, now: datetime) -> tuple[str, int | None]:
    """Why a Bearer token ``find_live_token`` turned away is not live, and its id when it is
    one of ours: for the refusal's audit event only (the caller is told none of it, so a
    guesser learns nothing), so that an auditor sees a leaked old token being tried."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return "malformed", None
    row = session.execute(
        select(ApiToken.id, ApiToken.revoked_at, ApiToken.expires_at, User.id)
        .outerjoin(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(token))
    ).first()
    if row is None:
        return "unknown", None
    token_id, revoked_at, expires_at, owner = row
    if revoked_at is not None:
        return "revoked", token_id
    if owner is None:
        return "owner_deleted", token_id
    return ("expired" if expires_at <= now else "not_live"), token_id


def live_token_exists(token_id: int, now: datetime) -> Exists:
    """Whether the token is neither revoked nor expired, as an expression (the file-serving
    query asks it alongside the file)."""
    return exists().where(
        ApiToken.id == token_id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now
    )


def token_is_live(session: Session, token_id: int, now: datetime) -> bool:
    """Whether the token is neither revoked nor expired: what a URL it asked for rests on."""
    return bool(session.scalar(live_token_exists(token_id, now).select()))
