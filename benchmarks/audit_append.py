"""Audit append rate with 1, 4 and 16 writer processes on a durable PostgreSQL.

    .venv/bin/python -m benchmarks.audit_append [--seconds 2] [--rounds 5]

Every writer is a process of its own; every append is one transaction that records one
event and commits, as a request does. Three ways of appending take turns in phases of a
few seconds (the same processes throughout), each on a database of its own:

- ``head_row``: take the row lock of a one-row head with ``UPDATE ... RETURNING`` (seq
  and hash), insert the event, write its hash back to the head;
- ``advisory_lock``: ``pg_advisory_xact_lock``, read the last event (``ORDER BY seq DESC
  LIMIT 1``), insert the event;
- ``record_event``: the service's own append through the app's session factory: since
  revision 0017 an INSERT into the audit queue with no lock, as outside the demo
  (``AUDIT_SEQUENCER=thread``, no thread started here); the queue is chained afterwards,
  off the clock, by the app's sequencer.

The first two differ in nothing but how they order appenders; they are written out here so
that the one not chosen can still be measured. Each database is checked at the end: seqs
1..n, each event linked to the one before.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from audit.log.actions import AuditAction
from audit.log.append import AuditActor, hashed_fields, record_event
from audit.log.chain import event_hashes
from audit.log.models import GENESIS_HASH, AuditEvent
from config import Settings, load_settings
from core.db import make_engine, make_session_factory
from core.migrations import upgrade
from tests.postgres import create_database, throwaway_cluster

WRITERS = (1, 4, 16)
STRATEGIES = ("head_row", "advisory_lock", "record_event")
CHAIN_LOCK = 0x61756469745F6C67  # any constant; the same in every writer
Outcome = tuple[int, int, float, float]  # phase, appends, start, end (one clock for all)


def _event(writer: int, count: int) -> AuditEvent:
    """A url:issue event by a user of its own, so no download alert fires and skews a run."""
    return AuditEvent(
        occurred_at=datetime.now(UTC),
        action="url:issue",
        outcome="success",
        actor_user_id=writer * 10**6 + count,
        actor_issuer="https://idp.example.org",
        actor_subject=f"user-{writer}-{count}",
        actor_roles="researcher",
        ip="192.0.2.7",
        user_agent="bench/1.0",
        request_id=f"{writer:04}{count:028}",
        target_type="file",
        target_id=str(count % 500 + 1),
        details={"dataset_id": 7, "expires_in": 900},
    )


def _append_with_head_row(session: Session, event: AuditEvent) -> None:
    event.seq, event.prev_hash = session.execute(
        text("UPDATE bench_chain_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
    ).one()
    event.hash, event.leaf_hash = event_hashes(event.prev_hash, hashed_fields(event))
    session.add(event)
    session.execute(
        text("UPDATE bench_chain_head SET hash = :hash WHERE id = 1"), {"hash": event.hash}
    )


def _append_with_advisory_lock(session: Session, event: AuditEvent) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    # A statement of its own: under READ COMMITTED it sees what the lock's last holder wrote.
    last = session.execute(
        text("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
    ).first()
    event.seq, event.prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS_HASH)
    event.hash, event.leaf_hash = event_hashes(event.prev_hash, hashed_fields(event))
    session.add(event)


def _settings(url: str, instance: str) -> Settings:
    return load_settings(
        environ={},
        overrides={
            "ENV": "demo",
            "INSTANCE_DIR": instance,
            "DATABASE_URL": url,
            "AUDIT_SEQUENCER": "thread",
        },
    )


def _appender(
    strategy: str,
    url: str,
    instance: str,
) -> tuple[sessionmaker[Session], Callable[[Session, int, int], object]]:
    if strategy == "record_event":
        app = create_app(_settings(url, instance))
        clock = app.extensions["custodian.clock"]

        def append(session: Session, writer: int, count: int) -> object:
            event = _event(writer, count)
            actor = AuditActor(
                user_id=event.actor_user_id,
                issuer=event.actor_issuer,
                subject=event.actor_subject,
                roles=("researcher",),
                ip=event.ip,
                user_agent=event.user_agent,
                request_id=event.request_id,
            )
            return record_event(
                session,
                actor,
                AuditAction.URL_ISSUE,
                now=clock.now(),
                target_type="file",
                target_id=event.target_id,
                details=event.details,
            )

        return app.extensions["custodian.session_factory"], append
    lock = _append_with_head_row if strategy == "head_row" else _append_with_advisory_lock
    factory = make_session_factory(make_engine(url, pool_size=1, max_overflow=0))
    return factory, lambda session, writer, count: lock(session, _event(writer, count))


def _write(
    urls: dict[str, str],
    instance: str,
    writer: int,
    phases: list[str],
    seconds: float,
    start_line: Barrier,
    results: Queue[Outcome],
) -> None:
    """One writer process: in each phase, append with its strategy until the time is up."""
    appenders = {strategy: _appender(strategy, url, instance) for strategy, url in urls.items()}
    for factory, append in appenders.values():  # connect and warm up before any clock starts
        with factory.begin() as session:
            append(session, writer, -1)
    serial = 0  # numbers this writer's events across phases: one user per event
    for phase, strategy in enumerate(phases):
        factory, append = appenders[strategy]
        count = 0
        start_line.wait()
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            with factory.begin() as session:
                append(session, writer, serial + count)
            count += 1
        serial += count
        results.put((phase, count, start, time.perf_counter()))


def _fresh_database(server: str, strategy: str, instance: str) -> str:
    url = create_database(server, f"append_{strategy}_{time.time_ns()}")
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE bench_chain_head (id int PRIMARY KEY, "
                "seq bigint NOT NULL, hash varchar(64) NOT NULL)"
            )
        )
        connection.execute(
            text("INSERT INTO bench_chain_head VALUES (1, 0, :genesis)"), {"genesis": GENESIS_HASH}
        )
    engine.dispose()
    _settings(url, instance)  # the demo secrets are written once, before any writer reads them
    return url


def _check_linear(url: str) -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        events, last, broken = connection.execute(
            text(
                "SELECT count(*), max(seq), count(*) FILTER (WHERE prev_hash <> coalesce("
                "  (SELECT hash FROM audit_events b WHERE b.seq = a.seq - 1), :genesis))"
                " FROM audit_events a"
            ),
            {"genesis": GENESIS_HASH},
        ).one()
    engine.dispose()
    if (last, broken) != (events, 0):
        raise RuntimeError(f"not one linear chain: {events} events, last {last}, {broken} forks")


def run_writers(
    server: str, instance: str, writers: int, rounds: int, seconds: float
) -> dict[str, list[float]]:
    """Appends per second of each strategy, one figure per round, with the same processes.

    The strategies take turns in short phases, so that whatever else the machine is
    doing weighs on each of them alike.
    """
    urls = {strategy: _fresh_database(server, strategy, instance) for strategy in STRATEGIES}
    phases = [STRATEGIES[(round_ + i) % 3] for round_ in range(rounds) for i in range(3)]
    spawn = multiprocessing.get_context("spawn")
    start_line = spawn.Barrier(writers)
    results: Queue[Outcome] = spawn.Queue()
    processes = [
        spawn.Process(
            target=_write, args=(urls, instance, writer, phases, seconds, start_line, results)
        )
        for writer in range(writers)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get() for _ in range(writers * len(phases))]
    for process in processes:
        process.join()
    sequencing = create_app(_settings(urls["record_event"], instance))
    sequencing.extensions["custodian.audit_sequencer"].drain()
    sequencing.extensions["custodian.engine"].dispose()
    for url in urls.values():
        _check_linear(url)
    rates: dict[str, list[float]] = {strategy: [] for strategy in STRATEGIES}
    for phase, strategy in enumerate(phases):
        mine = [outcome for outcome in outcomes if outcome[0] == phase]
        elapsed = max(end for *_, end in mine) - min(start for _, _, start, _ in mine)
        rates[strategy].append(sum(count for _, count, _, _ in mine) / elapsed)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one phase")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    medians: dict[tuple[str, int], float] = {}
    with throwaway_cluster(durable=True) as cluster, tempfile.TemporaryDirectory() as instance:
        for writers in WRITERS:
            rates = run_writers(cluster.url, instance, writers, args.rounds, args.seconds)
            for strategy, figures in rates.items():
                medians[strategy, writers] = statistics.median(figures)
                print(
                    f"{writers:2} writers, {strategy:13} "
                    + " ".join(f"{rate:5.0f}" for rate in figures),
                    flush=True,
                )
    print("\nMedian of the rounds, appends per second:\n")
    print("| strategy | " + " | ".join(f"{n} writers" for n in WRITERS) + " |")
    print("| --- |" + " ---: |" * len(WRITERS))
    for strategy in STRATEGIES:
        print(
            f"| {strategy} | " + " | ".join(f"{medians[strategy, n]:.0f}" for n in WRITERS) + " |"
        )
    print(
        "| advisory_lock / head_row | "
        + " | ".join(f"{medians['advisory_lock', n] / medians['head_row', n]:.2f}" for n in WRITERS)
        + " |"
    )


if __name__ == "__main__":
    main()
