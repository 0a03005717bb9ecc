"""Unusual activity, noticed as the sequencer integrates it: too many downloads, or
refusals, in a rolling hour.

For each subject (a user, or an address) and kind, the sequencer keeps the times of its
last threshold + 1 events (``AlertWindow``): the hour holds more than the threshold exactly
when the oldest of them is within it. That is O(1) per event, whatever the subject's
volume, where counting the hour's events grew with it. The windows are loaded once per
batch for the subjects it names, and written in the batch's transaction, so a sequencer
killed mid-batch leaves them as they were, like the chain. An alert is raised once per
subject and kind per rolling hour.

Alerts are ``audit:alert`` events in the chain itself, right after the event that raised
them, so they are as tamper-evident as what they report, and the alerts page is a search
for that action.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, select, tuple_
from sqlalchemy.orm import Session

from audit.log.actions import AuditAction, Outcome
from audit.log.models import AuditEvent
from audit.review.models import AlertWindow

WINDOW = timedelta(hours=1)
WindowKey = tuple[str, str, str]  # (kind, subject_type, subject)


class AlertKind(StrEnum):
    DOWNLOADS = "downloads_per_hour"
    REFUSALS = "refusals_per_hour"


@dataclass(frozen=True)
class AlertRules:
    downloads_per_hour: int
    refusals_per_hour: int

    def threshold(self, kind: str) -> int:
        return self.downloads_per_hour if kind == AlertKind.DOWNLOADS else self.refusals_per_hour


@dataclass(frozen=True)
class Breach:
    kind: str
    subject_type: str  # "user" or "ip"
    subject: str
    count: int
    threshold: int

    def details(self, trigger_seq: int) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "count": self.count,
            "threshold": self.threshold,
            "window_seconds": int(WINDOW.total_seconds()),
            "trigger_seq": trigger_seq,
        }


def counted_as(event: Mapping[str, Any]) -> list[WindowKey]:
    """The windows an event (its hashed fields) counts in."""
    keys: list[WindowKey] = []
    user = event["actor_user_id"]
    if event["action"] == AuditAction.URL_ISSUE and user is not None:
        keys.append((AlertKind.DOWNLOADS.value, "user", str(user)))
    if event["outcome"] == Outcome.DENIED:
        if user is not None:
            keys.append((AlertKind.REFUSALS.value, "user", str(user)))
        if event["ip"]:
            keys.append((AlertKind.REFUSALS.value, "ip", event["ip"]))
    return keys


@dataclass
class AlertWindows:
    """The windows of one batch's subjects, held while the sequencer observes it."""

    session: Session
    rules: AlertRules
    _windows: dict[WindowKey, AlertWindow] = field(default_factory=dict)

    def load(self, keys: Iterable[WindowKey]) -> None:
        """One query for the stored windows; a missing or resized one is rebuilt from the
        chain (a bounded, indexed read of at most threshold + 1 events)."""
        wanted = set(keys) - set(self._windows)
        if not wanted:
            return
        stored = {
            (w.kind, w.subject_type, w.subject): w
            for w in self.session.scalars(
                select(AlertWindow).where(
                    tuple_(AlertWindow.kind, AlertWindow.subject_type, AlertWindow.subject).in_(
                        wanted
                    )
                )
            )
        }
        for key in wanted:
            window = stored.get(key)
            capacity = self.rules.threshold(key[0]) + 1
            if window is None or window.capacity != capacity:
                recent, alerted_at = _rebuilt(self.session, key, capacity)
                if window is None:
                    window = AlertWindow(kind=key[0], subject_type=key[1], subject=key[2])
                    self.session.add(window)
                window.capacity, window.recent, window.alerted_at = capacity, recent, alerted_at
            self._windows[key] = window

    def observe(self, event: Mapping[str, Any]) -> list[Breach]:
        """Count a loaded event in its windows; the thresholds it takes over, not yet alerted."""
        at: datetime = event["occurred_at"]
        breaches: list[Breach] = []
        for key in counted_as(event):
            window = self._windows[key]
            window.recent = [*window.recent, at.isoformat()][-window.capacity :]
            full = len(window.recent) == window.capacity
            if not full or datetime.fromisoformat(window.recent[0]) <= at - WINDOW:
                continue
            if window.alerted_at is not None and window.alerted_at > at - WINDOW:
                continue
            window.alerted_at = at
            threshold = window.capacity - 1
            breaches.append(Breach(key[0], key[1], key[2], window.capacity, threshold))
        return breaches


def _rebuilt(session: Session, key: WindowKey, capacity: int) -> tuple[list[str], datetime | None]:
    kind, subject_type, subject = key
    conditions: list[ColumnElement[bool]]
    if kind == AlertKind.DOWNLOADS:
        conditions = [
            AuditEvent.actor_user_id == int(subject),
            AuditEvent.action == AuditAction.URL_ISSUE.value,
        ]
    elif subject_type == "user":
        conditions = [
            AuditEvent.actor_user_id == int(subject),
            AuditEvent.outcome == Outcome.DENIED.value,
        ]
    else:
        conditions = [AuditEvent.ip == subject, AuditEvent.outcome == Outcome.DENIED.value]
    times = session.scalars(
        select(AuditEvent.occurred_at)
        .where(*conditions)
        .order_by(AuditEvent.occurred_at.desc())
        .limit(capacity)
    ).all()
    alerts = session.execute(
        select(AuditEvent.occurred_at, AuditEvent.details)
        .where(
            AuditEvent.action == AuditAction.AUDIT_ALERT.value,
            AuditEvent.target_type == subject_type,
            AuditEvent.target_id == subject,
        )
        .order_by(AuditEvent.occurred_at.desc())
        .limit(10)
    ).all()
    alerted = next((at for at, details in alerts if details.get("kind") == kind), None)
    return [moment.isoformat() for moment in reversed(times)], alerted
