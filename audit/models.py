"""The audit tables: events form a hash chain, appended under a lock (audit/services.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
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
    # recorded before 2026-11-25 SHA-256(0x00 || canonical bytes) (SEPARATE; audit/chain.py).
    leaf_hash: Mapped[str] = mapped_column(String(64))
    # Search keys derived from target and details (see audit/search_keys.py). Not hashed:
    # they repeat hashed content, so a verifier can recompute them; they only make
    # "by dataset" and "by file" an index lookup instead of a scan of JSON.
    dataset_id: Mapped[int | None] = mapped_column(Integer)
    file_id: Mapped[int | None] = mapped_column(Integer)


class AuditSigningKey(Base):
    """Every key that ever signed a checkpoint, registered on its first signature.

    Rotating the key is replacing the setting: the old public key stays here, so its
    checkpoints keep verifying and the API keeps serving it.
    """

    __tablename__ = "audit_signing_keys"

    # The 4-byte signed-note key id, in hex; it already commits to the name and the key.
    key_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    public_key: Mapped[str] = mapped_column(String(64))  # 32 raw Ed25519 bytes, hex
    first_used_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditCheckpoint(Base):
    """A signed tree head: the C2SP checkpoint note for the first ``tree_size`` events."""

    __tablename__ = "audit_checkpoints"

    tree_size: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    root_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(ForeignKey("audit_signing_keys.key_id"), index=True)
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditMerkleNode(Base):
    """A complete interior node of the Merkle tree (level >= 1; leaves are on the events).

    Written when a checkpoint covers it, so proofs against any checkpoint read O(log n)
    rows (see audit/merkle.py for the addressing).
    """

    __tablename__ = "audit_merkle_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    hash: Mapped[str] = mapped_column(String(64))
