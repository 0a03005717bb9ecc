"""The audit events: each links to the one before it, appended under a lock (log/append.py)."""

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
        Index("ix_audit_events_user_action_time", "actor_user_id", "action", "occurred_at"),
        Index("ix_audit_events_denied_user_time", "actor_user_id", "occurred_at",
              postgresql_where=_DENIED, sqlite_where=_DENIED),
        Index("ix_audit_events_denied_ip_time", "ip", "occurred_at",
              postgresql_where=_DENIED, sqlite_where=_DENIED),
        Index("ix_audit_events_alert_target_time", "target_type", "target_id", "occurred_at",
              postgresql_where=_ALERT, sqlite_where=_ALERT),
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
    # The event's RFC 6962 leaf, kept so that checkpoints and proofs never re-encode events:
    # SHA-256(0x00 || prev_hash || canonical bytes), equal to hash (LINKED), or on events
    # recorded before 2026-11-25 SHA-256(0x00 || canonical bytes) (SEPARATE; audit/log/chain.py).
    leaf_hash: Mapped[str] = mapped_column(String(64))
    # Search keys derived from target and details (see audit/log/search_keys.py). Not hashed:
    # they repeat hashed content, so a verifier can recompute them; they only make
    # "by dataset" and "by file" an index lookup instead of a scan of JSON.
    dataset_id: Mapped[int | None] = mapped_column(Integer)
    file_id: Mapped[int | None] = mapped_column(Integer)
