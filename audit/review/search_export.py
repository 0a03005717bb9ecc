"""Exporting a search to CSV or JSON Lines; every export is itself an audit event.

The export is recorded before a byte is streamed, in the request's transaction, and it
contains exactly the matching events chained up to the tip it names in its own
``audit:export`` event (``before_seq``), so the record says precisely what left the system.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from audit.log.actions import AuditAction
from audit.log.append import record_event
from audit.log.models import AuditEvent
from audit.readers import AuditReader
from audit.review.schemas import EventOut
from audit.review.search import EventFilter, iter_events

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
COLUMNS = list(EventOut().fields)
# Spreadsheets run cells starting with these as formulas; user agents and ids are
# attacker-chosen, so CSV cells get a leading quote (OWASP's advice). JSON Lines is verbatim.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_event_out = EventOut()


@dataclass(frozen=True)
class Export:
    where: EventFilter
    format: str
    up_to: int  # one past the chain's tip when it was asked for: it holds events before it

    @property
    def filename(self) -> str:
        return f"audit-events-before-{self.up_to}.{self.format}"


def start_export(
    session: Session, reader: AuditReader, where: EventFilter, *, fmt: str, now: datetime
) -> Export:
    before = (session.scalar(select(func.max(AuditEvent.seq))) or 0) + 1
    record_event(
        session,
        reader.actor,
        AuditAction.AUDIT_EXPORT,
        now=now,
        details={"format": fmt, "filters": where.described(), "before_seq": before},
    )
    return Export(where, fmt, before)


def stream_export(factory: sessionmaker[Session], export: Export) -> Iterator[str]:
    """The export's text, a line at a time, read in its own session while it streams."""
    with factory() as session:
        events = iter_events(session, export.where, up_to=export.up_to)
        yield from (csv_lines(events) if export.format == "csv" else jsonl_lines(events))


def jsonl_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    for event in events:
        yield json.dumps(_event_out.dump(event), ensure_ascii=False, separators=(",", ":")) + "\n"


def csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for event in events:
        record = _event_out.dump(event)
        writer.writerow([_cell(record[column]) for column in COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()  # the header alone, when nothing matched


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = (
        json.dumps(value, ensure_ascii=False, sort_keys=True)
        if isinstance(value, dict)
        else str(value)
    )
    return "'" + text if text.startswith(FORMULA_STARTS) else text
