"""Appending to and verifying the audit chain.

Use cases call ``record_event`` with the session of the change they record, so both commit
or neither does. ``record_refusal`` is for attempts that were refused: the refusing
transaction is rolled back, so the refusal is written in a transaction of its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from audit.actions import AuditAction, Outcome
from audit.alarm import commit_audited, watched
from audit.chain import chain_hash
from audit.models import GENESIS_HASH, AuditChainHead, AuditEvent

HEAD_ROW_ID = 1


@dataclass(frozen=True)
class AuditActor:
    """Who acted and from where, as far as the request tells."""

    user_id: int | None = None
    issuer: str | None = None
    subject: str | None = None
    token_id: int | None = None
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
    # Bumping the head first takes the lock that orders concurrent appenders.
    seq, prev_hash = session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ROW_ID)
        .values(seq=AuditChainHead.seq + 1)
        .returning(AuditChainHead.seq, AuditChainHead.hash)
    ).one()
    event = AuditEvent(
        seq=seq,
        occurred_at=now,
        action=str(action),
        outcome=str(outcome),
        actor_user_id=actor.user_id,
        actor_issuer=actor.issuer,
        actor_subject=actor.subject,
        actor_token_id=actor.token_id,
        ip=actor.ip,
        user_agent=(actor.user_agent or "")[:512] or None,
        request_id=actor.request_id,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=dict(details or {}),
        prev_hash=prev_hash,
    )
    event.hash = chain_hash(prev_hash, hashed_fields(event))
    session.add(event)
    session.execute(
        update(AuditChainHead).where(AuditChainHead.id == HEAD_ROW_ID).values(hash=event.hash)
    )
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


def create_chain_head(session: Session) -> None:
    """The head row every append updates; created once, by the first migration."""
    session.add(AuditChainHead(id=HEAD_ROW_ID, seq=0, hash=GENESIS_HASH))


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events_checked: int
    first_bad_seq: int | None = None
    problem: str | None = None


def verify_chain(session: Session, batch_size: int = 5000) -> ChainReport:
    """Recompute every link; report the first event whose stored values no longer add up."""
    expected_seq = 1
    prev_hash = GENESIS_HASH
    for event in _events_in_order(session, batch_size):
        if event.seq != expected_seq:
            return ChainReport(False, expected_seq - 1, expected_seq,
                               f"event {expected_seq} is missing (next found is {event.seq})")
        if event.prev_hash != prev_hash:
            return ChainReport(False, expected_seq - 1, event.seq,
                               f"event {event.seq} does not link to the event before it")
        if chain_hash(prev_hash, hashed_fields(event)) != event.hash:
            return ChainReport(False, expected_seq - 1, event.seq,
                               f"event {event.seq} was altered: its content no longer matches "
                               "its hash")
        prev_hash = event.hash
        expected_seq += 1
    head = session.get(AuditChainHead, HEAD_ROW_ID)
    checked = expected_seq - 1
    if head is None or head.seq != checked or head.hash != prev_hash:
        return ChainReport(False, checked, checked + 1 if head and head.seq > checked else checked,
                           "the chain head does not match the last event: events were removed "
                           "from the end or the head was edited")
    return ChainReport(True, checked)


def _events_in_order(session: Session, batch_size: int) -> Iterator[AuditEvent]:
    last_seq = 0
    while True:
        batch = session.scalars(
            select(AuditEvent).where(AuditEvent.seq > last_seq).order_by(AuditEvent.seq)
            .limit(batch_size)
        ).all()
        if not batch:
            return
        yield from batch
        last_seq = batch[-1].seq
        session.expunge_all()


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
        "ip": event.ip,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "details": event.details,
    }
