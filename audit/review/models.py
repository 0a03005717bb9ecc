"""What the sequencer keeps to notice unusual activity in O(1) per event (review/alerts.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class AlertWindow(Base):
    """One subject's recent events of one alert kind: the times of its last ``capacity``
    (threshold + 1) events, and when it was last alerted on.

    Derived from the chain alone and written only by the sequencer, in the transaction of
    the batch it has observed, so it is never ahead of or behind the chain; a missing or
    resized window is rebuilt from the chain (``AlertWindows.load``).
    """

    __tablename__ = "audit_alert_windows"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(8), primary_key=True)
    subject: Mapped[str] = mapped_column(String(128), primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)
    recent: Mapped[list[str]] = mapped_column(JSON)  # ISO times, oldest first
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
