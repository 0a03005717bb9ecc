"""`flask audit verify` reads the chain in batches: a batch's edge is where an off-by-one
hides, so here the batches are small and every kind of break falls on or beside an edge.

The demo's log is far shorter than a real batch (10,000 events), so without this every
check ran inside one batch and a wrong carry from one batch to the next passed.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from audit.integrity.chain_check import ChainReport, verify_chain
from audit.log.models import AuditEvent
from tests.conftest import DemoInstance
from tests.integration.tampering import tamper_as_dba

BATCH = 3


def verified(demo: DemoInstance, batch_size: int = BATCH) -> ChainReport:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return verify_chain(session, batch_size=batch_size)


def event_count(demo: DemoInstance) -> int:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return len(session.scalars(select(AuditEvent.seq)).all())


@pytest.mark.parametrize("batch_size", [1, 2, BATCH, 10_000])
def test_an_intact_chain_verifies_in_batches_of_any_size(
    demo: DemoInstance, batch_size: int
) -> None:
    count = event_count(demo)
    assert count > 3 * BATCH
    assert verified(demo, batch_size) == ChainReport(True, count)


# The first event, a batch's last and the next batch's first, and one inside a batch.
@pytest.mark.parametrize("seq", [1, BATCH, BATCH + 1, 2 * BATCH + 2])
def test_an_edited_event_is_named_wherever_it_falls_in_a_batch(
    demo: DemoInstance, seq: int
) -> None:
    tamper_as_dba(demo, update(AuditEvent).where(AuditEvent.seq == seq)
                  .values(details={"quietly": "changed"}))
    report = verified(demo)
    assert (report.ok, report.first_bad_seq, report.events_checked) == (False, seq, seq - 1)
    assert report.problem == f"event {seq} was altered: its content no longer matches its hash"


@pytest.mark.parametrize("seq", [BATCH + 1, 2 * BATCH + 1])
def test_a_broken_link_at_the_start_of_a_batch_is_named(demo: DemoInstance, seq: int) -> None:
    tamper_as_dba(demo, update(AuditEvent).where(AuditEvent.seq == seq)
                  .values(prev_hash="cd" * 32))
    report = verified(demo)
    assert (report.first_bad_seq, report.problem) == (
        seq, f"event {seq} does not link to the event before it")


def test_the_last_event_of_a_batch_is_checked_against_the_next_batch(
    demo: DemoInstance,
) -> None:
    """Edited and re-hashed at a batch's end: only the next batch's first link shows it."""
    from audit.log.append import hashed_fields
    from audit.log.chain import event_hashes

    with demo.app.extensions["custodian.session_factory"]() as session:
        event = session.get(AuditEvent, 2 * BATCH)
        assert event is not None
        event.target_id = "999"
        rehashed, leaf = event_hashes(event.prev_hash, hashed_fields(event))
    tamper_as_dba(demo, update(AuditEvent).where(AuditEvent.seq == 2 * BATCH)
                  .values(target_id="999", hash=rehashed, leaf_hash=leaf))
    report = verified(demo)
    assert (report.first_bad_seq, report.problem) == (
        2 * BATCH + 1, f"event {2 * BATCH + 1} does not link to the event before it")
