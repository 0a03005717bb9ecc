"""Grants: the only thing that opens a controlled dataset to a user."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, ColumnExpressionArgument, Exists, exists, select
from sqlalchemy.orm import Session

from access.models import Grant
from audit.log.actions import AuditAction
from audit.log.append import AuditActor, record_event


def live_grant_exists(
    user_id: int | ColumnExpressionArgument[int],
    dataset_id: int | ColumnExpressionArgument[int],
    now: datetime | ColumnElement[datetime],
) -> Exists:
    """Whether the user holds a live grant on the dataset, as an expression: the download
    path asks it inside the query that reads the file (``dataset_id`` may be its column)."""
    return exists().where(
        Grant.user_id == user_id,
        Grant.dataset_id == dataset_id,
        Grant.revoked_at.is_(None),
        Grant.starts_at <= now,
        Grant.ends_at > now,
    )


def has_live_grant(session: Session, user_id: int, dataset_id: int, now: datetime) -> bool:
    """Checked on every URL request, so expiry and revocation need no background job."""
    return bool(session.scalar(live_grant_exists(user_id, dataset_id, now).select()))


def lapse_reason(lapsed: Grant | None) -> str:
    """Why a user without a live grant has none, as a refused download records it."""
    if lapsed is None:
        return "no_grant"
    return "grant_revoked" if lapsed.revoked_at is not None else "grant_expired"


def lapsed_grant(session: Session, user_id: int, dataset_id: int, now: datetime
                 ) -> Grant | None:
    """The user's latest grant on the dataset that has expired or was revoked, if any.

    Expiry writes no event of its own (it is a date, checked on every request); a refused
    download names the lapsed grant instead, so the log shows why access ended.
    """
    return session.scalar(
        select(Grant)
        .where(Grant.user_id == user_id, Grant.dataset_id == dataset_id, Grant.starts_at <= now)
        .order_by(Grant.ends_at.desc())
        .limit(1)
    )


def live_grants_of(session: Session, user_id: int, now: datetime) -> list[Grant]:
    return list(
        session.scalars(
            select(Grant)
            .where(Grant.user_id == user_id, Grant.revoked_at.is_(None), Grant.ends_at > now)
            .order_by(Grant.ends_at)
        )
    )


def open_grant(
    session: Session, actor: AuditActor, *, user_id: int, dataset_id: int, request_id: int,
    starts_at: datetime, ends_at: datetime,
) -> Grant:
    grant = Grant(user_id=user_id, dataset_id=dataset_id, request_id=request_id,
                  starts_at=starts_at, ends_at=ends_at)
    session.add(grant)
    session.flush()
    record_event(
        session, actor, AuditAction.GRANT_CREATE, now=starts_at,
        target_type="grant", target_id=grant.id,
        details={"user_id": user_id, "dataset_id": dataset_id, "request_id": request_id,
                 "ends_at": ends_at.isoformat()},
    )
    return grant


def end_request_grants(session: Session, request_id: int, reason: str, now: datetime
                       ) -> list[int]:
    """End every live grant of a request (applicant's and collaborators') at once.

    Marked revoked, so the very next URL request is refused and names the reason; the
    caller's transition event lists the ids.
    """
    grants = list(session.scalars(
        select(Grant).where(Grant.request_id == request_id, Grant.revoked_at.is_(None),
                            Grant.ends_at > now).order_by(Grant.id)
    ))
    for grant in grants:
        grant.revoked_at = now
        grant.revoked_reason = reason
    session.flush()
    return [grant.id for grant in grants]


def live_grants_of_request(session: Session, request_id: int, now: datetime) -> list[Grant]:
    return list(session.scalars(
        select(Grant).where(Grant.request_id == request_id, Grant.revoked_at.is_(None),
                            Grant.ends_at > now).order_by(Grant.id)
    ))
