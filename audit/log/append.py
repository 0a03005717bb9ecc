"""Appending to the audit chain.

Use cases call ``record_event`` with the session of the change they record, so both commit
or neither does. ``record_refusal`` is for attempts that were refused: the refusing
transaction is rolled back, so the refusal is written in a transaction of its own.
What falls due with the events (a checkpoint, an alert) is done when their transaction
commits (audit/on_commit.py), still holding the chain lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import false, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from audit.log.actions import AuditAction, Outcome
from audit.log.alarm import commit_audited, watched
from audit.log.chain import event_hashes
from audit.log.models import GENESIS_HASH, AuditEvent
from audit.log.search_keys import search_keys

_EVENT_COLUMNS = AuditEvent.__table__.c  # Core columns: no ORM work inside the chain lock
CHAIN_LOCK_KEY = 0x61756469745F6C67  # "audit_lg": the advisory lock that orders appends


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
        details={
            **(details or {}),
            **({"operator": dict(actor.operator)} if actor.operator else {}),
        },
        prev_hash=prev_hash,
    )
    event.hash, event.leaf_hash = event_hashes(prev_hash, hashed_fields(event))
    event.dataset_id, event.file_id = search_keys(target_type, event.target_id, event.details)
    session.add(event)
    session.flush()  # written now: a failing audit write fails the action here, not at commit
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
    last = session.execute(
        select(_EVENT_COLUMNS.seq, _EVENT_COLUMNS.hash).order_by(_EVENT_COLUMNS.seq.desc()).limit(1)
    ).first()
    return (1, GENESIS_HASH) if last is None else (last.seq + 1, last.hash)


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
