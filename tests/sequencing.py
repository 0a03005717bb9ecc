"""Draining the audit queue in tests that write events without the app's sequencer: a
session factory of their own, or a bare engine. Tests through the app need none of this:
the demo's ``in_transaction`` mode chains a transaction's events as it commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit.integrity.checkpoints import CheckpointSigner
from audit.log.models import AuditEvent
from audit.log.sequencing import Sequencer
from audit.review.alerts import AlertRules
from core.clock import SystemClock

TEST_SIGNER = CheckpointSigner.from_seed(bytes(32), origin="test.example/audit", every=1000)
NO_ALERTS = AlertRules(1000, 1000)


def sequencer_for(
    factory: sessionmaker[Session],
    *,
    signer: CheckpointSigner = TEST_SIGNER,
    rules: AlertRules = NO_ALERTS,
    batch_size: int = 1000,
) -> Sequencer:
    engine = factory.kw["bind"]
    return Sequencer(
        engine, factory, signer, rules, SystemClock(), batch_size=batch_size, interval=0.01
    )


def drain(
    factory: sessionmaker[Session],
    *,
    signer: CheckpointSigner = TEST_SIGNER,
    rules: AlertRules = NO_ALERTS,
    batch_size: int = 1000,
) -> int:
    """Chain every queued event now; how many were."""
    return sequencer_for(factory, signer=signer, rules=rules, batch_size=batch_size).drain()


def seq_of(factory: sessionmaker[Session], entry_id: int) -> int:
    """The position the sequencer gave a queued entry (it must be chained by now)."""
    with factory() as session:
        seq = session.scalar(select(AuditEvent.seq).where(AuditEvent.entry_id == entry_id))
    assert seq is not None, f"queue entry {entry_id} is not chained"
    return seq
