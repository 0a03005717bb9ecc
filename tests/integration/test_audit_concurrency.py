"""Several processes appending at once, and several sequencers integrating at once, leave
one linear chain: no gap, no fork.

PostgreSQL only: it is where several app processes write at once. Each writer is a
process of its own (spawned, so nothing is shared but the database), and every fifth of
its transactions rolls back after its append, which must leave no hole in the sequence.
Meanwhile two sequencers drain the queue side by side, as two app instances' would if
leadership failed: the chain lock alone must keep them from forking the chain.
The writers start each round together (a barrier), so every round has all of them
appending at once whatever the scheduler does, and what the test checks of the order
follows from the rounds alone, not from how the operating system interleaved them.
"""

from __future__ import annotations

import multiprocessing
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from multiprocessing.synchronize import Barrier

import pytest
from sqlalchemy import Engine, select

from audit.integrity.chain_check import verify_chain
from audit.log.actions import AuditAction
from audit.log.append import AuditActor, record_event
from audit.log.models import GENESIS_HASH, AuditEvent
from core.db import make_engine, make_session_factory
from core.migrations import upgrade
from tests.sequencing import drain

WRITERS = 4
APPENDS = 40  # transactions per writer
ROLLBACK_EVERY = 5
KEPT = [n for n in range(APPENDS) if n % ROLLBACK_EVERY != ROLLBACK_EVERY - 1]


@pytest.fixture
def audit_database(postgres_server: str) -> Iterator[str]:
    from tests.postgres import create_database, drop_database

    name = f"concurrency_{uuid.uuid4().hex[:12]}"
    url = create_database(postgres_server, name)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    drop_database(postgres_server, name)


def append_events(url: str, writer: int, start_line: Barrier) -> None:
    """One writer: an event per transaction, some of them abandoned after the append; each
    round begins when every writer has finished the one before."""
    engine = make_engine(url, pool_size=1, max_overflow=0)
    factory = make_session_factory(engine)
    for n in range(APPENDS):
        start_line.wait(timeout=60)
        with factory() as session:
            record_event(
                session,
                AuditActor(user_id=writer, request_id=f"{writer}-{n}"),
                AuditAction.URL_ISSUE,
                now=datetime.now(UTC),
                details={"writer": writer, "n": n},
            )
            if n in KEPT:
                session.commit()
            else:
                session.rollback()
    engine.dispose()


def run_writers(url: str) -> None:
    spawn = multiprocessing.get_context("spawn")
    start_line = spawn.Barrier(WRITERS)
    writers = [
        spawn.Process(target=append_events, args=(url, writer, start_line))
        for writer in range(WRITERS)
    ]
    engine = make_engine(url)
    done = threading.Event()
    sequencers = [threading.Thread(target=drain_until, args=(engine, done)) for _ in range(2)]
    for process in writers:
        process.start()
    for thread in sequencers:
        thread.start()
    for process in writers:
        process.join(timeout=60)
    done.set()
    for thread in sequencers:
        thread.join(timeout=60)
    drain(make_session_factory(engine))
    engine.dispose()
    assert [process.exitcode for process in writers] == [0] * WRITERS


def drain_until(engine: Engine, done: threading.Event) -> None:
    """A sequencer draining in small batches (so that they interleave) until told to stop."""
    factory = make_session_factory(engine)
    while not done.is_set():
        drain(factory, batch_size=3)


def test_concurrent_appends_from_several_processes_form_one_linear_chain(
    audit_database: str,
) -> None:
    run_writers(audit_database)

    engine: Engine = make_engine(audit_database)
    with make_session_factory(engine)() as session:
        events = session.execute(
            select(
                AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.hash, AuditEvent.details
            ).order_by(AuditEvent.seq)
        ).all()
        report = verify_chain(session)
    engine.dispose()

    total = WRITERS * len(KEPT)
    assert [event.seq for event in events] == list(range(1, total + 1))
    assert [event.prev_hash for event in events] == (
        [GENESIS_HASH] + [event.hash for event in events[:-1]]
    )
    assert len({event.prev_hash for event in events}) == total  # no two share a predecessor
    assert report.ok, report.problem
    assert report.events_checked == total
    for writer in range(WRITERS):  # what was rolled back left nothing behind
        assert [e.details["n"] for e in events if e.details["writer"] == writer] == KEPT
    # Every writer took part in every kept round, and a round's events all come before the
    # next round's: the rounds overlapped the writers, and integration kept their order.
    rounds = [event.details["n"] for event in events]
    assert rounds == sorted(rounds)
    for n in KEPT:
        assert sorted(e.details["writer"] for e in events if e.details["n"] == n) == list(
            range(WRITERS)
        )
