"""Checking the stored chain: every seq, link, chain hash and Merkle leaf, a batch at a time.

``flask audit verify`` runs this over the database, in the same pass as the checkpoints'
check (integrity/log_check.py); the offline verifier does the same over an export
(integrity/offline_verifier.py). Events removed from the end leave a chain that still
links: the signed checkpoints catch that (integrity/checkpoints.py).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DateTime, Row, Text, cast, select, true, type_coerce
from sqlalchemy.orm import Session

from audit.log.chain import STORED_FIELDS, checked_rows, contradicted_hash
from audit.log.models import GENESIS_HASH, AuditEvent

_EVENT_COLUMNS = AuditEvent.__table__.c


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events_checked: int
    first_bad_seq: int | None = None
    problem: str | None = None


def verify_chain(session: Session, batch_size: int = 10_000) -> ChainReport:
    """Recompute every link; report the first event whose stored values no longer add up.

    A batch of plain rows is checked at once (``doubtful_rows``), many times faster than
    an ORM object per event; the rows that check doubts are judged one at a time with the
    reference encoding, which alone decides what is reported. Events removed from the end
    leave a chain that still links: the signed checkpoints catch that (integrity/checkpoints.py).
    """
    checked, prev_hash = 0, GENESIS_HASH
    with cyclic_gc_paused():
        for rows in stored_rows(session, batch_size):
            failed, _ = check_batch(rows, checked, prev_hash)
            if failed is not None:
                return failed
            checked += len(rows)
            prev_hash = rows[-1].hash
    return ChainReport(True, checked)


def check_batch(rows: Sequence[Row[Any]], checked: int, prev_hash: str
                ) -> tuple[ChainReport | None, list[bytes] | None]:
    """The report of the first bad event of a batch that follows ``checked`` good events
    ending in ``prev_hash``, or None; and, from the fast path, the batch's leaves as bytes
    (``checked_rows``)."""
    doubtful, leaves = checked_rows(rows, checked + 1, prev_hash)
    for index in doubtful:
        linked_to = rows[index - 1].hash if index else prev_hash
        found = problem_of(rows[index], checked + index + 1, linked_to)
        if found is not None:
            return ChainReport(False, checked + index, *found), None
    return None, leaves


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Batches of rows kept alive a moment set off full collections that find nothing (they
    tripled the cost of a row); verifying makes no cycles, reference counting frees it all."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def problem_of(row: Row[Any], expected_seq: int, linked_to: str) -> tuple[int, str] | None:
    """The reference check of one stored event: (seq to name, what is wrong), or None."""
    if row.seq != expected_seq:
        return expected_seq, f"event {expected_seq} is missing (next found is {row.seq})"
    if row.prev_hash != linked_to:
        return row.seq, f"event {row.seq} does not link to the event before it"
    wrong = contradicted_hash(linked_to, stored_fields(row), row.hash, row.leaf_hash)
    if wrong == "hash":
        return row.seq, f"event {row.seq} was altered: its content no longer matches its hash"
    if wrong == "leaf_hash":
        return row.seq, (f"event {row.seq} has a Merkle leaf hash that does not match its "
                         "content")
    return None


def stored_fields(row: Row[Any]) -> dict[str, Any]:
    """A row of ``stored_rows`` as the reference encoding takes it: details parsed, or kept
    as its text when it is not JSON (a tampered row), which then matches no hash."""
    try:
        details = json.loads(row.details)
    except ValueError:
        details = row.details
    return {**row._mapping, "details": details}


def stored_rows(session: Session, batch_size: int, up_to: int | None = None,
                after: int = 0) -> Iterator[Sequence[Row[Any]]]:
    """Keyset batches of ``STORED_FIELDS`` as stored: JSON as text, times as naive UTC; the
    events after seq ``after`` up to seq ``up_to``, or to the end."""
    stored = _EVENT_COLUMNS
    columns = [type_coerce(stored[name], DateTime()).label(name) if name == "occurred_at"
               else cast(stored[name], Text).label(name) if name == "details"
               else stored[name] for name in STORED_FIELDS]
    last_seq = after
    bound = true() if up_to is None else stored.seq <= up_to
    while rows := session.execute(select(*columns).where(stored.seq > last_seq, bound)
                                  .order_by(stored.seq).limit(batch_size)).all():
        yield rows
        last_seq = rows[-1].seq
