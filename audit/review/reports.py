"""Access reports: who received which files, and downloads per day, from the audit log.

"Received" means a signed URL was issued (``url:issue``; with S3 the store then serves
it) or the local backend served the file (``file:serve``). Both are counted, so a report
reads the same whichever storage backend is in use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from audit.log.actions import AuditAction, Outcome
from audit.log.models import AuditEvent
from audit.readers import AuditReader
from core.errors import InvalidInput

DEFAULT_DAYS = 30
MAX_CHART_DAYS = 366
ROW_LIMIT = 5000
RECEIVED = (AuditAction.URL_ISSUE.value, AuditAction.FILE_SERVE.value)


@dataclass(frozen=True)
class Period:
    since: datetime
    until: datetime

    @classmethod
    def around(cls, since: datetime | None, until: datetime | None, now: datetime) -> Period:
        """The period asked for; a missing end is the end of today (UTC), a missing start is
        30 days before the end: whole days, like the chart's bars."""
        end = until or datetime.combine(now.date() + timedelta(days=1), time(), UTC)
        start = since or end - timedelta(days=DEFAULT_DAYS)
        if start >= end:
            raise InvalidInput("since must be before until (which defaults to today's end).",
                               details={"since": start.isoformat(), "until": end.isoformat()})
        return cls(start, end)

    def days(self) -> list[date]:
        first, last = self.since.date(), (self.until - timedelta(microseconds=1)).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@dataclass(frozen=True)
class Receipt:
    """One user's receipt of one file in the period."""

    user_id: int | None
    issuer: str | None
    subject: str | None
    dataset_id: int | None
    file_id: int | None
    urls_issued: int
    files_served: int
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True)
class AccessReport:
    since: datetime
    until: datetime
    rows: list[Receipt]
    truncated: bool  # more than ROW_LIMIT rows: narrow the period


@dataclass(frozen=True)
class DayCount:
    day: date
    urls_issued: int
    files_served: int


def dataset_access_report(session: Session, reader: AuditReader, dataset_id: int,
                          period: Period) -> AccessReport:
    return _access_report(session, AuditEvent.dataset_id == dataset_id, period)


def user_access_report(session: Session, reader: AuditReader, user_id: int,
                       period: Period) -> AccessReport:
    return _access_report(session, AuditEvent.actor_user_id == user_id, period)


def _access_report(session: Session, whose: ColumnElement[bool], period: Period
                   ) -> AccessReport:
    rows = session.execute(
        select(
            AuditEvent.actor_user_id, AuditEvent.actor_issuer, AuditEvent.actor_subject,
            AuditEvent.dataset_id, AuditEvent.file_id,
            _count_of(AuditAction.URL_ISSUE), _count_of(AuditAction.FILE_SERVE),
            func.min(AuditEvent.occurred_at), func.max(AuditEvent.occurred_at),
        )
        .where(whose, *_received_in(period))
        .group_by(AuditEvent.actor_user_id, AuditEvent.actor_issuer, AuditEvent.actor_subject,
                  AuditEvent.dataset_id, AuditEvent.file_id)
        .order_by(AuditEvent.dataset_id, AuditEvent.file_id, AuditEvent.actor_user_id)
        .limit(ROW_LIMIT + 1)
    ).all()
    receipts = [Receipt(*row) for row in rows[:ROW_LIMIT]]
    return AccessReport(period.since, period.until, receipts, len(rows) > ROW_LIMIT)


def downloads_per_day(session: Session, reader: AuditReader, period: Period, *,
                      dataset_id: int | None = None) -> list[DayCount]:
    """URL issues and file serves per UTC day, every day of the period (zero if none)."""
    if period.until - period.since > timedelta(days=MAX_CHART_DAYS):
        raise InvalidInput(f"Chart at most {MAX_CHART_DAYS} days at a time.",
                           details={"since": period.since.isoformat(),
                                    "until": period.until.isoformat()})
    days = period.days()
    day = func.date(AuditEvent.occurred_at)
    where = _received_in(period)
    if dataset_id is not None:
        where.append(AuditEvent.dataset_id == dataset_id)
    counted = session.execute(
        select(day, AuditEvent.action, func.count()).where(*where)
        .group_by(day, AuditEvent.action)
    ).all()
    # SQLite answers date() with text, PostgreSQL with a date: compare them as text.
    by_day = {(str(found)[:10], action): number for found, action, number in counted}
    return [DayCount(d, by_day.get((d.isoformat(), AuditAction.URL_ISSUE.value), 0),
                     by_day.get((d.isoformat(), AuditAction.FILE_SERVE.value), 0))
            for d in days]


def _received_in(period: Period) -> list[ColumnElement[bool]]:
    return [AuditEvent.action.in_(RECEIVED), AuditEvent.outcome == Outcome.SUCCESS.value,
            AuditEvent.occurred_at >= period.since, AuditEvent.occurred_at < period.until]


def _count_of(action: AuditAction) -> ColumnElement[int]:
    return func.count(case((AuditEvent.action == action.value, 1)))
