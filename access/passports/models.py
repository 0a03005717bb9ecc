"""Grants a GA4GH Passport brought along at sign-in: live only while the visa is."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class PassportGrant(Base):
    """Access a trusted broker's GA4GH visa conferred at sign-in, for the visa's lifetime.

    Only what the audit and the URL check need is kept: never the visa itself, only its hash.
    """

    __tablename__ = "passport_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    issuer: Mapped[str] = mapped_column(String(512))
    subject: Mapped[str] = mapped_column(String(255))
    jti: Mapped[str | None] = mapped_column(String(255))
    # SHA-256 of the visa JWS: the same visa presented at the next sign-in is not stored twice.
    visa_hash: Mapped[str] = mapped_column(String(64))
    asserted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("user_id", "visa_hash"),
        Index("ix_passport_grants_user_dataset", "user_id", "dataset_id"),
    )
