"""The email outbox: written in the transaction of the action it reports, sent later."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime
from core.field_encryption import EncryptedText


class EmailStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxEmail(Base):
    __tablename__ = "outbox_emails"
    # The sender's query: due pending emails, oldest first.
    __table_args__ = (Index("ix_outbox_emails_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Who is written to and what about: encrypted at rest, as the request itself is.
    to_address: Mapped[str] = mapped_column(EncryptedText("outbox_emails.to_address"))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(EncryptedText("outbox_emails.body"))
    # Makes a repeated notice (a reminder per grant and window) a no-op.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=EmailStatus.PENDING.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
