"""Searching the audit log: filters, newest first, keyset pages on seq.

Pages are bounded by seq, never by offset: an event appended while an auditor pages
through has a higher seq than anything already shown, so it never pushes a row onto the
next page (no duplicates) or a row off it (no gaps). Each use case takes an AuditReader:
holding one is the proof that the caller may read the log.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from audit.log.actions import AuditAction
from audit.log.models import AuditEvent
from audit.readers import AuditReader
from core.errors import NotFound

EXPORT_BATCH = 1000


@dataclass(frozen=True)
class EventFilter:
    """Every field narrows the search; ``action`` ending in ':' is a prefix (``request:``)."""

    user: int | None = None
    subject: str | None = None
    dataset: int | None = None
    file: int | None = None
    action: str | None = None
    outcome: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    after: int | None = None  # seq bounds, exclusive
    before: int | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.user is not None:
            found.append(AuditEvent.actor_user_id == self.user)
        if self.subject is not None:
            found.append(AuditEvent.actor_subject == self.subject)
        if self.dataset is not None:
            found.append(AuditEvent.dataset_id == self.dataset)
        if self.file is not None:
            found.append(AuditEvent.file_id == self.file)
        if self.action is not None:
            found.append(AuditEvent.action.startswith(self.action, autoescape=True)
                         if self.action.endswith(":") else AuditEvent.action == self.action)
        if self.outcome is not None:
            found.append(AuditEvent.outcome == self.outcome)
        if self.since is not None:
            found.append(AuditEvent.occurred_at >= self.since)
        if self.until is not None:
            found.append(AuditEvent.occurred_at < self.until)
        if self.after is not None:
            found.append(AuditEvent.seq > self.after)
        if self.before is not None:
            found.append(AuditEvent.seq < self.before)
        return found

    def described(self) -> dict[str, Any]:
        """The filters that were set, as JSON-ready values (for an export's audit event)."""
        return {name: value.isoformat() if isinstance(value, datetime) else value
                for name, value in asdict(self).items() if value is not None}


@dataclass(frozen=True)
class EventPage:
    events: list[AuditEvent]
    # Pass as ``before`` (with the same filters) for the next, older page; None at the end.
    next_before: int | None


def search_events(session: Session, reader: AuditReader, where: EventFilter, *, limit: int
                  ) -> EventPage:
    """One page of matching events, newest first."""
    rows = list(session.scalars(
        select(AuditEvent).where(*where.conditions()).order_by(AuditEvent.seq.desc())
        .limit(limit + 1)
    ))
    more = len(rows) > limit
    events = rows[:limit]
    return EventPage(events, events[-1].seq if more else None)


def search_alerts(session: Session, reader: AuditReader, *, since: datetime | None = None,
                  until: datetime | None = None, before: int | None = None, limit: int
                  ) -> EventPage:
    """Alerts are ``audit:alert`` events (see audit/review/alerts.py), newest first."""
    where = EventFilter(action=AuditAction.AUDIT_ALERT.value, since=since, until=until,
                        before=before)
    return search_events(session, reader, where, limit=limit)


def get_event(session: Session, reader: AuditReader, seq: int) -> AuditEvent:
    event = session.get(AuditEvent, seq)
    if event is None:
        raise NotFound(f"No audit event {seq}.")
    return event


def iter_events(session: Session, where: EventFilter, *, up_to: int) -> Iterator[AuditEvent]:
    """Every matching event with seq below ``up_to``, oldest first, a batch at a time.

    The bound fixes what an export contains however long it streams for.
    """
    last = where.after or 0
    while True:
        batch = list(session.scalars(
            select(AuditEvent).where(*where.conditions(), AuditEvent.seq > last,
                                     AuditEvent.seq < up_to)
            .order_by(AuditEvent.seq).limit(EXPORT_BATCH)
        ))
        yield from batch
        if len(batch) < EXPORT_BATCH:
            return
        last = batch[-1].seq
        session.expunge_all()
