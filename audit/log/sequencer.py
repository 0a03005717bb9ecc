"""Integrating queued events into the chain, a batch per transaction.

A batch takes the chain lock, reads the chain's tip and the oldest queued entries, gives
each its position, link and hashes (and its Merkle leaf, which is its chain hash), counts
it in the alert windows and chains any alert it raises right after it, inserts the events,
deletes their entries, and signs the checkpoints that fall due; the caller commits. Either
all of that commits or none of it does, so a sequencer killed mid-batch loses and
duplicates nothing: the entries are still queued, and the next batch takes them again.

Ordering: the chain's order is integration order, which is the order of the entries'
ids among those committed when a batch reads the queue. An event keeps its own
``occurred_at``, the time its action gave it, so times along the chain are nearly but not
strictly increasing; an action that commits after a later-numbered one may be chained
after it. Today as before, an event is in the chain only once its action committed.

Only one batch runs at a time: PostgreSQL, a transaction-scoped advisory lock (the one
long-running sequencer also holds it for the session, audit/log/sequencing.py); SQLite,
its write lock. Nothing else takes it: actions only insert into the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import psycopg
from sqlalchemy import bindparam, delete, false, func, insert, select, update
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from audit.integrity.checkpoints import CheckpointSigner, write_checkpoint
from audit.log.actions import AuditAction, Outcome
from audit.log.chain import event_hashes
from audit.log.models import ENTRY_FIELDS, GENESIS_HASH, AuditEvent, AuditQueueEntry
from audit.log.search_keys import search_keys
from audit.review.alerts import AlertRules, AlertWindows, Breach, counted_as
from core.db import UTCDateTime, canonical_json

CHAIN_LOCK_KEY = 0x61756469745F6C67  # "audit_lg": held by whoever integrates
_EVENTS = AuditEvent.__table__.c
_QUEUE = AuditQueueEntry.__table__.c
_TIMES = UTCDateTime()
# Built once: the entries a batch took, by id.
_DELETE_ENTRIES = delete(AuditQueueEntry).where(_QUEUE.id.in_(bindparam("ids", expanding=True)))


@dataclass(frozen=True)
class Integrated:
    """What one batch did: entries integrated (0: the queue was empty) and their lags."""

    entries: int
    lags: tuple[float, ...] = ()


def integrate_batch(
    session: Session,
    *,
    signer: CheckpointSigner,
    rules: AlertRules,
    now: datetime,
    limit: int,
    wait: bool = True,
) -> Integrated | None:
    """One batch, in the caller's transaction; None when ``wait`` is false and another
    sequencer holds the lock."""
    tip = lock_chain_tip(session, wait=wait)
    if tip is None:
        return None
    seq, prev_hash = tip
    entries = session.execute(
        select(AuditQueueEntry.__table__).order_by(_QUEUE.id).limit(limit)
    ).all()
    if not entries:
        return Integrated(0)
    windows = AlertWindows(session, rules)
    windows.load(key for entry in entries for key in counted_as(dict(entry._mapping)))
    rows: list[dict[str, Any]] = []
    due: list[int] = []
    for entry in entries:
        fields = {name: getattr(entry, name) for name in ENTRY_FIELDS}
        for event, entry_id in [
            (fields, entry.id),
            *_alerts(windows.observe(fields), fields, seq + 1),
        ]:
            seq += 1
            rows.append(_chained(seq, prev_hash, event, entry_id, now))
            prev_hash = rows[-1]["hash"]
            if seq % signer.every == 0 or asks_for_checkpoint(event):
                due.append(seq)
    insert_events(session, rows)
    session.execute(_DELETE_ENTRIES, {"ids": [e.id for e in entries]})
    session.flush()  # the alert windows, and the leaves the checkpoints read
    for tree_size in due:
        write_checkpoint(session, signer, tree_size, now)
    return Integrated(len(entries), tuple((now - e.occurred_at).total_seconds() for e in entries))


def insert_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """The batch's events, in the caller's transaction. On PostgreSQL one COPY: inserting
    them row by row cost the sequencer two fifths of its time (and the worker that hosts
    it a tenth of its own); the append-only triggers see each row either way."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(AuditEvent), rows)
        return
    session.flush()  # pending ORM changes go first, as before an ORM statement (autoflush)
    columns = list(rows[0])
    dbapi_connection: Any = connection.connection.dbapi_connection
    statement = f"COPY audit_events ({', '.join(columns)}) FROM STDIN"
    try:
        with dbapi_connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([_as_stored(row[name], connection.dialect) for name in columns])
    except psycopg.Error as error:
        raise _as_sqlalchemy_error(connection, dbapi_connection, statement, error) from None


def _as_sqlalchemy_error(connection: Connection, dbapi_connection: Any, statement: str,
                         error: psycopg.Error) -> BaseException:
    """The COPY's failure as SQLAlchemy reports a statement's, so the app's handlers (503
    for a lost database) and the pool's invalidation apply as to any other statement. Only
    its primary message: the server's context of a COPY error quotes the row's values,
    which must not reach a log (hide_parameters, core/db.py)."""
    disconnect = connection.dialect.is_disconnect(cast(Any, error), dbapi_connection, None)
    if disconnect:
        connection.invalidate()
    message = error.diag.message_primary or type(error).__name__
    return DBAPIError.instance(statement, None, type(error)(message), psycopg.Error,
                               hide_parameters=True, connection_invalidated=disconnect,
                               dialect=connection.dialect)


def _as_stored(value: Any, dialect: Dialect) -> Any:
    """A value as the ORM would bind it: times as naive UTC (core.db.UTCDateTime), details
    as their canonical JSON text, which the chain's hashes are of."""
    if isinstance(value, datetime):
        return _TIMES.process_bind_param(value, dialect)
    if isinstance(value, dict):
        return canonical_json(value)
    return value


def asks_for_checkpoint(event: dict[str, Any]) -> bool:
    """An on-demand checkpoint, or a whole-log export, which ends at a checkpoint of its own
    (audit/integrity/log_export.py), is signed at the event that asked for it."""
    action: str = event["action"]
    details: dict[str, Any] = event["details"]
    return action == AuditAction.AUDIT_CHECKPOINT or (
        action == AuditAction.AUDIT_EXPORT and details.get("format") == "verifiable-jsonl"
    )


def lock_chain_tip(session: Session, *, wait: bool = True) -> tuple[int, str] | None:
    """The right to integrate, held until the transaction ends, and then the tip; None if
    another holds it and ``wait`` is false.

    The tip is read by a statement of its own, after the lock: under READ COMMITTED that
    statement sees what the previous holder committed. SQLite always waits (its busy
    timeout): only the demo's one process integrates there.
    """
    if session.get_bind().dialect.name == "postgresql":
        if wait:
            session.execute(select(func.pg_advisory_xact_lock(CHAIN_LOCK_KEY)))
        elif not session.scalar(select(func.pg_try_advisory_xact_lock(CHAIN_LOCK_KEY))):
            return None
    else:  # a write that matches no row takes SQLite's write lock
        session.execute(update(AuditEvent).where(false()).values(seq=AuditEvent.seq))
    last = session.execute(
        select(_EVENTS.seq, _EVENTS.hash).order_by(_EVENTS.seq.desc()).limit(1)
    ).first()
    return (0, GENESIS_HASH) if last is None else (last.seq, last.hash)


def _alerts(
    breaches: list[Breach], trigger: dict[str, Any], trigger_seq: int
) -> list[tuple[dict[str, Any], None]]:
    """Each breach as an event of the sequencer's own, with no queue entry."""
    return [
        (
            {
                "occurred_at": trigger["occurred_at"],
                "action": AuditAction.AUDIT_ALERT.value,
                "outcome": Outcome.SUCCESS.value,
                "actor_user_id": None,
                "actor_issuer": None,
                "actor_subject": None,
                "actor_token_id": None,
                "actor_roles": "",
                "ip": None,
                "user_agent": None,
                "request_id": trigger["request_id"],
                "target_type": breach.subject_type,
                "target_id": breach.subject,
                "details": breach.details(trigger_seq),
            },
            None,
        )
        for breach in breaches
    ]


def _chained(
    seq: int, prev_hash: str, fields: dict[str, Any], entry_id: int | None, now: datetime
) -> dict[str, Any]:
    chain_hash, leaf = event_hashes(prev_hash, {"seq": seq, **fields})
    dataset_id, file_id = search_keys(fields["target_type"], fields["target_id"], fields["details"])
    return {
        "seq": seq,
        **fields,
        "prev_hash": prev_hash,
        "hash": chain_hash,
        "leaf_hash": leaf,
        "entry_id": entry_id,
        "chained_at": now,
        "dataset_id": dataset_id,
        "file_id": file_id,
    }
