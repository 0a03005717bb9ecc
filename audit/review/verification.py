"""The verification page's use cases: where the log stands, and a check an auditor runs.

A check from the page goes on from the last one that passed (the page's or ``flask audit
verify``'s), over at most ``PAGE_CHECK_EVENTS`` events (audit/integrity/incremental_check.py),
so it answers within seconds at any size; each run is an ``audit:verify`` event, and the
next one starts where the last passing one ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.integrity.checkpoints import CheckpointSigner
from audit.integrity.incremental_check import StepReport, TooFar, check_from
from audit.integrity.models import AuditCheckpoint
from audit.log.actions import AuditAction, Outcome
from audit.log.append import record_event
from audit.log.models import AuditEvent
from audit.readers import AuditReader

# About two seconds of checking at the measured 100,000+ events/s of database verification.
PAGE_CHECK_EVENTS = 200_000
PAGE_SCOPE = "since_last_check"


@dataclass(frozen=True)
class VerificationStatus:
    checkpoint: AuditCheckpoint | None  # the newest
    events: int  # in the chain
    last_check: AuditEvent | None  # the newest audit:verify, passed or not
    verified_through: int  # the tree size the last passing check verified


def verification_status(session: Session, reader: AuditReader) -> VerificationStatus:
    checkpoint = session.scalar(
        select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1))
    events = session.scalar(select(func.max(AuditEvent.seq))) or 0
    return VerificationStatus(checkpoint, events, _last_check(session, passed=False),
                              _verified_through(session))


def covering_checkpoint(session: Session, seq: int) -> AuditCheckpoint | None:
    """The first checkpoint that holds event ``seq``: an inclusion proof needs one."""
    return session.scalar(select(AuditCheckpoint).where(AuditCheckpoint.tree_size >= seq)
                          .order_by(AuditCheckpoint.tree_size).limit(1))


def run_check(session: Session, reader: AuditReader, signer: CheckpointSigner, now: datetime,
              *, limit: int = PAGE_CHECK_EVENTS) -> tuple[StepReport, Outcome]:
    """Check on from the last passing check; the run is recorded whatever it finds, and a
    run the bound refuses (``TooFar``) as denied."""
    start = _verified_through(session)
    try:
        report = check_from(session, signer, start, limit)
        outcome = Outcome.SUCCESS if report.ok else Outcome.ERROR
    except TooFar as exc:
        report = StepReport(False, start, start, 0, problem=str(exc))
        outcome = Outcome.DENIED
    record_event(
        session, reader.actor, AuditAction.AUDIT_VERIFY, now=now, outcome=outcome,
        details={"scope": PAGE_SCOPE, "from_size": report.from_size,
                 "verified_through": report.to_size if report.ok else None,
                 "checkpoints_checked": report.checkpoints_checked,
                 "first_bad_seq": report.first_bad_seq, "problem": report.problem},
    )
    return report, outcome


def _last_check(session: Session, *, passed: bool) -> AuditEvent | None:
    query = select(AuditEvent).where(AuditEvent.action == AuditAction.AUDIT_VERIFY.value)
    if passed:
        query = query.where(AuditEvent.outcome == Outcome.SUCCESS.value)
    return session.scalar(query.order_by(AuditEvent.seq.desc()).limit(1))


def _verified_through(session: Session) -> int:
    """The checkpoint the last passing check ended at: the page's says so; ``flask audit
    verify`` checked every event and checkpoint there were, so the newest of those."""
    last = _last_check(session, passed=True)
    details = last.details if last is not None and isinstance(last.details, dict) else {}
    if isinstance(details.get("verified_through"), int):
        return int(details["verified_through"])
    if isinstance(details.get("events_checked"), int):
        covered = session.scalar(
            select(func.max(AuditCheckpoint.tree_size))
            .where(AuditCheckpoint.tree_size <= details["events_checked"]))
        return covered or 0
    return 0
