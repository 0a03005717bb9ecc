"""Unusual activity, noticed as it is recorded: too many downloads, or refusals, in an hour.

Detection runs in the transaction of the event that may cross a threshold, just before it
commits (audit/on_commit.py), so there is no scheduler to run and no window in which an
alert is lost. It costs one indexed count (capped at the threshold) for downloads and
refusals only, and it runs while the transaction holds the chain lock, so concurrent
appenders see each other's events and alerts: an alert is raised once per subject per
rolling hour, never twice.

Alerts are ``audit:alert`` events in the chain itself, so they are as tamper-evident as
what they report, and the alerts page is a search for that action.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from audit.log.actions import AuditAction, Outcome
from audit.log.models import AuditEvent

WINDOW = timedelta(hours=1)


class AlertKind(StrEnum):
    DOWNLOADS = "downloads_per_hour"
    REFUSALS = "refusals_per_hour"


@dataclass(frozen=True)
class AlertRules:
    downloads_per_hour: int
    refusals_per_hour: int


@dataclass(frozen=True)
class Breach:
    kind: AlertKind
    subject_type: str  # "user" or "ip"
    subject: str
    count: int
    threshold: int

    def details(self, trigger_seq: int) -> dict[str, Any]:
        return {"kind": self.kind.value, "count": self.count, "threshold": self.threshold,
                "window_seconds": int(WINDOW.total_seconds()), "trigger_seq": trigger_seq}


def find_breaches(session: Session, event: AuditEvent, rules: AlertRules) -> list[Breach]:
    """Thresholds this (already flushed) event takes a subject over, not yet alerted."""
    since = event.occurred_at - WINDOW
    found: list[Breach] = []
    user = event.actor_user_id
    if event.action == AuditAction.URL_ISSUE and user is not None:
        found += _breach(session, AlertKind.DOWNLOADS, "user", str(user),
                         rules.downloads_per_hour, since,
                         [AuditEvent.actor_user_id == user,
                          AuditEvent.action == AuditAction.URL_ISSUE.value])
    if event.outcome == Outcome.DENIED:
        denied = AuditEvent.outcome == Outcome.DENIED.value
        if user is not None:
            found += _breach(session, AlertKind.REFUSALS, "user", str(user),
                             rules.refusals_per_hour, since,
                             [AuditEvent.actor_user_id == user, denied])
        if event.ip:
            found += _breach(session, AlertKind.REFUSALS, "ip", event.ip,
                             rules.refusals_per_hour, since, [AuditEvent.ip == event.ip, denied])
    return found


def _breach(
    session: Session, kind: AlertKind, subject_type: str, subject: str, threshold: int,
    since: Any, conditions: Sequence[ColumnElement[bool]],
) -> list[Breach]:
    # Counting stops one past the threshold: a busy user costs no more than a quiet one.
    recent = (select(AuditEvent.seq).where(*conditions, AuditEvent.occurred_at > since)
              .limit(threshold + 1).subquery())
    count = session.scalar(select(func.count()).select_from(recent)) or 0
    if count <= threshold or _alerted(session, kind, subject_type, subject, since):
        return []
    return [Breach(kind, subject_type, subject, count, threshold)]


def _alerted(session: Session, kind: AlertKind, subject_type: str, subject: str,
             since: Any) -> bool:
    earlier = session.scalars(
        select(AuditEvent.details).where(
            AuditEvent.action == AuditAction.AUDIT_ALERT.value,
            AuditEvent.target_type == subject_type,
            AuditEvent.target_id == subject,
            AuditEvent.occurred_at > since,
        )
    )
    return any(details.get("kind") == kind.value for details in earlier)
