"""The audit alarm follows the commit of audit events, not any commit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session

from audit.log.actions import AuditAction
from audit.log.alarm import commit_audited, writes_failing
from audit.log.append import SYSTEM, record_event
from audit.log.models import AuditQueueEntry
from core.metrics import exposition

NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    AuditQueueEntry.metadata.create_all(engine, tables=[AuditQueueEntry.__table__])  # type: ignore[list-item]
    with Session(engine) as opened:
        yield opened
    engine.dispose()


def failures() -> float:
    for family in text_string_to_metric_families(exposition()[0].decode()):
        for sample in family.samples:
            if sample.name == "custodian_audit_write_failures_total":
                return sample.value
    raise AssertionError("no audit failure counter")


def refuse_commits(session: Session) -> None:
    def refuse(_session: Session) -> None:
        raise RuntimeError("disk full")

    event.listen(session, "before_commit", refuse, once=True)


def test_failed_commit_of_an_audit_event_raises_the_alarm_until_one_commits(
    session: Session,
) -> None:
    before = failures()
    record_event(session, SYSTEM, AuditAction.AUDIT_VERIFY, now=NOW)
    refuse_commits(session)
    with pytest.raises(RuntimeError):
        commit_audited(session)
    assert writes_failing() and failures() == before + 1

    session.rollback()
    record_event(session, SYSTEM, AuditAction.AUDIT_VERIFY, now=NOW)
    commit_audited(session)
    assert not writes_failing() and failures() == before + 1


def test_failed_commit_without_audit_events_raises_no_alarm(session: Session) -> None:
    before = failures()
    refuse_commits(session)
    with pytest.raises(RuntimeError):
        commit_audited(session)
    assert not writes_failing() and failures() == before
