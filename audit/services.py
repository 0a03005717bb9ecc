"""Appending to and verifying the audit chain.

Use cases call ``record_event`` with the session of the change they record, so both commit
or neither does. ``record_refusal`` is for attempts that were refused: the refusing
transaction is rolled back, so the refusal is written in a transaction of its own.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    DateTime,
    Row,
    Text,
    cast,
    false,
    func,
    select,
    true,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from audit.actions import AuditAction, Outcome
from audit.alarm import commit_audited, watched
from audit.alerts import find_breaches
from audit.chain import STORED_FIELDS, contradicted_hash, doubtful_rows, event_hashes
from audit.models import GENESIS_HASH, AuditEvent
from audit.search_keys import search_keys

if TYPE_CHECKING:
    from audit.checkpoints import CheckpointSigner

_EVENT_COLUMNS = AuditEvent.__table__.c  # Core columns: no ORM work inside the chain lock
CHAIN_LOCK_KEY = 0x61756469745F6C67  # "audit_lg": the advisory lock that orders appends
# session.info key of the app's CheckpointSigner (audit/checkpoints.py): the append that
# reaches a checkpoint's size writes it in the same transaction.
CHECKPOINT_SIGNER = "custodian.audit_checkpoint_signer"


@dataclass(frozen=True)
class AuditActor:
    """Who acted and from where, as far as the request tells."""

    user_id: int | None = None
    issuer: str | None = None
    subject: str | None = None
    token_id: int | None = None
    roles: tuple[str, ...] = ()
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


SYSTEM = AuditActor()


@watched
def record_event(
    session: Session,
    actor: AuditActor,
    action: AuditAction,
    *,
    now: datetime,
    outcome: Outcome = Outcome.SUCCESS,
    target_type: str | None = None,
    target_id: str | int | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    seq, prev_hash = _lock_chain_tip(session)
    event = AuditEvent(
        seq=seq,
        occurred_at=now,
        action=str(action),
        outcome=str(outcome),
        actor_user_id=actor.user_id,
        actor_issuer=actor.issuer,
        actor_subject=actor.subject,
        actor_token_id=actor.token_id,
        actor_roles=",".join(sorted(set(actor.roles))),
        ip=actor.ip,
        user_agent=(actor.user_agent or "")[:512] or None,
        request_id=actor.request_id,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=dict(details or {}),
        prev_hash=prev_hash,
    )
    event.hash, event.leaf_hash = event_hashes(prev_hash, hashed_fields(event))
    event.dataset_id, event.file_id = search_keys(target_type, event.target_id, event.details)
    session.add(event)
    session.flush()  # written now: a failing audit write fails the action here, not at commit
    signer: CheckpointSigner | None = session.info.get(CHECKPOINT_SIGNER)
    if signer is not None:
        signer.checkpoint_if_due(session, seq, now)
    for breach in find_breaches(session, event):
        record_event(session, AuditActor(request_id=actor.request_id), AuditAction.AUDIT_ALERT,
                     now=now, target_type=breach.subject_type, target_id=breach.subject,
                     details=breach.details(event.seq))
    return event


def record_refusal(
    session_factory: sessionmaker[Session],
    actor: AuditActor,
    action: AuditAction,
    *,
    now: datetime,
    target_type: str | None = None,
    target_id: str | int | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    with session_factory() as session:
        record_event(
            session,
            actor,
            action,
            now=now,
            outcome=Outcome.DENIED,
            target_type=target_type,
            target_id=target_id,
            details=details,
        )
        commit_audited(session)


def _lock_chain_tip(session: Session) -> tuple[int, str]:
    """Wait for the right to append, held until the transaction ends; then the next link.

    PostgreSQL: a transaction-scoped advisory lock, chosen over a row lock on a head row
    for the numbers in benchmarks/README.md and because no audit row is ever updated.
    SQLite has one writer at a time: a write that matches no row takes that write lock.
    The last event is read by a statement of its own, after the lock: under READ
    COMMITTED that statement sees what the previous holder committed.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(CHAIN_LOCK_KEY)))
    else:
        session.execute(update(AuditEvent).where(false()).values(seq=AuditEvent.seq))
    last = session.execute(select(_EVENT_COLUMNS.seq, _EVENT_COLUMNS.hash)
                           .order_by(_EVENT_COLUMNS.seq.desc()).limit(1)).first()
    return (1, GENESIS_HASH) if last is None else (last.seq + 1, last.hash)


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
    leave a chain that still links: the signed checkpoints catch that (audit/checkpoints.py).
    """
    checked, prev_hash = 0, GENESIS_HASH
    with _cyclic_gc_paused():
        for rows in stored_rows(session, batch_size):
            for index in doubtful_rows(rows, checked + 1, prev_hash):
                linked_to = rows[index - 1].hash if index else prev_hash
                found = _problem(rows[index], checked + index + 1, linked_to)
                if found is not None:
                    return ChainReport(False, checked + index, *found)
            checked += len(rows)
            prev_hash = rows[-1].hash
    return ChainReport(True, checked)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Batches of rows kept alive a moment set off full collections that find nothing (they
    tripled the cost of a row); verifying makes no cycles, reference counting frees it all."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _problem(row: Row[Any], expected_seq: int, linked_to: str) -> tuple[int, str] | None:
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


def stored_rows(session: Session, batch_size: int,
                up_to: int | None = None) -> Iterator[Sequence[Row[Any]]]:
    """Keyset batches of ``STORED_FIELDS`` as stored: JSON as text, times as naive UTC; the
    events up to seq ``up_to``, or all of them."""
    stored = _EVENT_COLUMNS
    columns = [type_coerce(stored[name], DateTime()).label(name) if name == "occurred_at"
               else cast(stored[name], Text).label(name) if name == "details"
               else stored[name] for name in STORED_FIELDS]
    last_seq = 0
    bound = true() if up_to is None else stored.seq <= up_to
    while rows := session.execute(select(*columns).where(stored.seq > last_seq, bound)
                                  .order_by(stored.seq).limit(batch_size)).all():
        yield rows
        last_seq = rows[-1].seq


def hashed_fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "occurred_at": event.occurred_at,
        "action": event.action,
        "outcome": event.outcome,
        "actor_user_id": event.actor_user_id,
        "actor_issuer": event.actor_issuer,
        "actor_subject": event.actor_subject,
        "actor_token_id": event.actor_token_id,
        "actor_roles": event.actor_roles,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "details": event.details,
    }
