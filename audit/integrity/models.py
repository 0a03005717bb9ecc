"""The integrity tables: signed checkpoints, the keys that signed them, and the Merkle nodes
the checkpoints cover (see integrity/checkpoints.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


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
    rows (see audit/integrity/merkle.py for the addressing).
    """

    __tablename__ = "audit_merkle_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    hash: Mapped[str] = mapped_column(String(64))
