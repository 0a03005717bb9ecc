"""Grants: the only thing that opens a controlled dataset to a user."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.models import Grant


def has_live_grant(session: Session, user_id: int, dataset_id: int, now: datetime) -> bool:
    """Checked on every URL request, so expiry and revocation need no background job."""
    found = session.scalar(
        select(Grant.id)
        .where(
            Grant.user_id == user_id,
            Grant.dataset_id == dataset_id,
            Grant.revoked_at.is_(None),
            Grant.starts_at <= now,
            Grant.ends_at > now,
        )
        .limit(1)
    )
    return found is not None


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
