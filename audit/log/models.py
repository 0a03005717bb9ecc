"""The audit log's two tables: the queue an action writes its event to (log/append.py), and
the chain the sequencer moves queued events into, each linking to the one before it
(log/sequencer.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from audit.log.chain import HASHED_FIELDS
from core.db import Base, UTCDateTime

GENESIS_HASH = "0" * 64
_DENIED = text("outcome = 'denied'")
_ALERT = text("action = 'audit:alert'")


class AuditEvent(Base):
    __tablename__ = "audit_events"
    # Search is newest first by seq, so each filter's index ends in seq. Alert detection
    # counts a user's (or address's) last hour; refusals and alerts are rare, hence the
    # partial indexes, which cost an append nothing when their condition is false.
    __table_args__ = (
        Index("ix_audit_events_action_seq", "action", "seq"),
        Index("ix_audit_events_actor_user_id_seq", "actor_user_id", "seq"),
        Index("ix_audit_events_actor_subject_seq", "actor_subject", "seq"),
        Index("ix_audit_events_dataset_id_seq", "dataset_id", "seq"),
        Index("ix_audit_events_file_id_seq", "file_id", "seq"),
        # A request page's history: the events of one target, in chain order.
        Index("ix_audit_events_target_seq", "target_type", "target_id", "seq"),
        Index("ix_audit_events_user_action_time", "actor_user_id", "action", "occurred_at"),
        Index(
            "ix_audit_events_denied_user_time",
            "actor_user_id",
            "occurred_at",
            postgresql_where=_DENIED,
            sqlite_where=_DENIED,
        ),
        Index(
            "ix_audit_events_denied_ip_time",
            "ip",
            "occurred_at",
            postgresql_where=_DENIED,
            sqlite_where=_DENIED,
        ),
        Index(
            "ix_audit_events_alert_target_time",
            "target_type",
            "target_id",
            "occurred_at",
            postgresql_where=_ALERT,
            sqlite_where=_ALERT,
        ),
        # An index rather than a constraint: SQLite adds it without rebuilding the table.
        Index("ix_audit_events_entry_id", "entry_id", unique=True),
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_issuer: Mapped[str | None] = mapped_column(String(512))
    actor_subject: Mapped[str | None] = mapped_column(String(255))
    actor_token_id: Mapped[int | None] = mapped_column(Integer)
    # The actor's global roles, sorted and comma-joined ("" for none); null only on
    # events recorded before roles were (see audit.chain.LATER_FIELDS).
    actor_roles: Mapped[str | None] = mapped_column(String(255))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    request_id: Mapped[str | None] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The queue entry this event was integrated from (log/sequencer.py); null for events the
    # sequencer writes itself (alerts) and for those recorded before the queue (revision
    # 0017). Not hashed: the database uses it to let an entry leave the queue only once the
    # chain holds its very content (migrations/versions/0017_audit_queue.py).
    entry_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    # When the sequencer chained it; null before revision 0017. Not hashed, as entry_id: with
    # occurred_at, the time its action gave it, it is each event's lag (benchmarks/).
    chained_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The event's RFC 6962 leaf, kept so that checkpoints and proofs never re-encode events:
    # SHA-256(0x00 || prev_hash || canonical bytes), equal to hash (LINKED), or on events
    # recorded before 2026-11-25 SHA-256(0x00 || canonical bytes) (SEPARATE; audit/log/chain.py).
    leaf_hash: Mapped[str] = mapped_column(String(64))
    # Search keys derived from target and details (see audit/log/search_keys.py). Not hashed:
    # they repeat hashed content, so a verifier can recompute them; they only make
    # "by dataset" and "by file" an index lookup instead of a scan of JSON.
    dataset_id: Mapped[int | None] = mapped_column(Integer)
    file_id: Mapped[int | None] = mapped_column(Integer)


class AuditQueueEntry(Base):
    """An event recorded by an action and not yet integrated into the chain.

    The action's transaction inserts it, taking no lock any other transaction waits for;
    the sequencer moves it into ``audit_events`` and deletes it in one transaction. The
    database refuses any update, and any deletion of an entry the chain does not hold with
    the same content, so an event cannot be changed or dropped while it waits.
    """

    __tablename__ = "audit_queue"
    # Ids name entries in the chain (``entry_id``): SQLite must never reuse one, as it
    # would once the queue is empty without AUTOINCREMENT.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_issuer: Mapped[str | None] = mapped_column(String(512))
    actor_subject: Mapped[str | None] = mapped_column(String(255))
    actor_token_id: Mapped[int | None] = mapped_column(Integer)
    actor_roles: Mapped[str | None] = mapped_column(String(255))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    request_id: Mapped[str | None] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


# The content an entry carries into the chain: every hashed field but its position.
ENTRY_FIELDS = tuple(name for name in HASHED_FIELDS if name != "seq")
