"""Data-use agreements: versioned text per dataset, and who accepted which version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class DataUseAgreement(Base):
    """One published version; never edited, so an acceptance always names the text it saw."""

    __tablename__ = "data_use_agreements"
    # Also the index the download check reads: the newest version of one dataset.
    __table_args__ = (UniqueConstraint("dataset_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Empty when the demo set-up published it rather than a person.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AgreementAcceptance(Base):
    __tablename__ = "agreement_acceptances"
    __table_args__ = (UniqueConstraint("agreement_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("data_use_agreements.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The hash the user sent, equal to the version's: proof of exactly which text they accepted.
    sha256: Mapped[str] = mapped_column(String(64))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())
