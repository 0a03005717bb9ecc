"""Recording audit events: the action's transaction queues its event.

Use cases call ``record_event`` with the session of the change they record, so both commit
or neither does. The event goes to ``audit_queue`` with one INSERT and no lock that any
other transaction waits for, so audited actions commit side by side; the sequencer then
integrates committed entries into the hash chain (audit/log/sequencer.py). ``record_refusal``
is for attempts that were refused: the refusing transaction is rolled back, so the refusal
is written in a transaction of its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session, sessionmaker

from audit.log.actions import AuditAction, Outcome
from audit.log.alarm import commit_audited, watched
from audit.log.models import AuditEvent, AuditQueueEntry

QUEUED = "custodian.audit_queued"  # session.info: this transaction queued events


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
    # An operator's command on the host (which command, which OS user): it goes into each
    # event's details, so the columns, and with them the chain's format, stay as they are.
    operator: Mapping[str, str] | None = None


SYSTEM = AuditActor()


class QueuedEvent(SimpleNamespace):
    """An event as it was queued: its entry's columns, and the ``id`` that names it until
    it is chained. A plain record: an ORM instance, built only to be read, cost a URL
    issuance a twentieth of its Python time."""

    id: int
    action: str
    actor_roles: str
    details: dict[str, Any]


_QUEUE_TABLE = cast(Table, AuditQueueEntry.__table__)
_QUEUE_INSERT = insert(_QUEUE_TABLE).returning(_QUEUE_TABLE.c.id)


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
) -> QueuedEvent:
    """Queue the event in the caller's transaction; its ``id`` names it until it is chained."""
    row = _queue_row(actor, action, now=now, outcome=outcome, target_type=target_type,
                     target_id=target_id, details=details)
    # Written now, after the action's own pending changes: a failing audit write fails the
    # action here, not at commit. A Core insert: the ORM's unit of work for one row cost
    # as much Python time as the rest of a URL issuance's statements together.
    session.flush()
    entry_id = session.execute(_QUEUE_INSERT, row).scalar_one()
    session.info[QUEUED] = True
    return QueuedEvent(id=entry_id, **row)


def _queue_row(
    actor: AuditActor,
    action: AuditAction,
    *,
    now: datetime,
    outcome: Outcome,
    target_type: str | None,
    target_id: str | int | None,
    details: Mapping[str, Any] | None,
) -> dict[str, Any]:
    return {
        "occurred_at": now,
        "action": str(action),
        "outcome": str(outcome),
        "actor_user_id": actor.user_id,
        "actor_issuer": actor.issuer,
        "actor_subject": actor.subject,
        "actor_token_id": actor.token_id,
        "actor_roles": ",".join(sorted(set(actor.roles))),
        "ip": actor.ip,
        "user_agent": (actor.user_agent or "")[:512] or None,
        "request_id": actor.request_id,
        "target_type": target_type,
        "target_id": None if target_id is None else str(target_id),
        "details": {
            **(details or {}),
            **({"operator": dict(actor.operator)} if actor.operator else {}),
        },
    }


@dataclass
class EventBatch:
    """Events of one action queued with one multi-row insert (``batched_events``)."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def record(
        self,
        actor: AuditActor,
        action: AuditAction,
        *,
        now: datetime,
        outcome: Outcome = Outcome.SUCCESS,
        target_type: str | None = None,
        target_id: str | int | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """As ``record_event``, written when the batch closes."""
        self.rows.append(_queue_row(actor, action, now=now, outcome=outcome,
                                    target_type=target_type, target_id=target_id,
                                    details=details))


@contextmanager
def batched_events(session: Session) -> Iterator[EventBatch]:
    """For an action with many events (DRS bulk access: up to 1,000 URLs): they are queued
    in the caller's transaction as ``record_event`` queues one, in one statement instead of
    one each. Nothing is written if the block raises (the transaction fails as a whole)."""
    batch = EventBatch()
    yield batch
    if batch.rows:
        _write_batch(session, batch.rows)


@watched
def _write_batch(session: Session, rows: list[dict[str, Any]]) -> None:
    # A Core executemany: the ORM would insert row by row on SQLite to read each id back.
    session.execute(insert(_QUEUE_TABLE), rows)
    session.info[QUEUED] = True


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


def hashed_fields(event: AuditEvent) -> dict[str, Any]:
    """A chained event's hashed fields, as ``audit.log.chain`` encodes them."""
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
