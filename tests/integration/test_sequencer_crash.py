"""The sequencer as a process of its own (``flask audit sequence``): killed with SIGKILL in
the middle of a batch, it loses and duplicates nothing, and a follower waiting for the lead
takes over and finishes the queue.

PostgreSQL only: leadership is its advisory lock. "Mid-batch" is made, not guessed from
time: the test holds a row lock the batch needs near its end, and the leader is killed once
the database shows it holding the lead, with writes in its open transaction
(``backend_xid``), waiting for that lock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, Executable, func, insert, select, text

from audit.integrity.chain_check import verify_chain
from audit.log.models import AuditEvent, AuditQueueEntry
from core.db import make_engine, make_session_factory
from core.migrations import upgrade
from tests.conftest import demo_settings

pytestmark = pytest.mark.parametrize("database_backend", ["postgresql"], indirect=True)
REPO = Path(__file__).resolve().parents[2]
FIRST, SECOND = 1000, 1000
BATCH = 500
# The leader's backend: holding the lead, in a transaction that has written, waiting.
MID_BATCH = text("""
    SELECT a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND a.backend_xid IS NOT NULL
      AND a.wait_event_type = 'Lock'
""")
LEADERS = text("SELECT count(DISTINCT pid) FROM pg_locks WHERE locktype = 'advisory' AND granted")


@pytest.fixture
def engine(fresh_database_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_database_url)
    upgrade(engine)
    with engine.begin() as connection:
        # A backend waiting for a lock notices its client died only with this set
        # (PostgreSQL 14+); without it the kill would end the batch only once it is released.
        name = connection.scalar(text("SELECT current_database()"))
        connection.execute(
            text(f"ALTER DATABASE \"{name}\" SET client_connection_check_interval = '50ms'")
        )
    yield engine
    engine.dispose()


def queue_events(engine: Engine, count: int, first_n: int = 0) -> None:
    """As many actions would: entries in the queue, committed, none chained yet."""
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(AuditQueueEntry),
            [
                {
                    "occurred_at": now,
                    "action": "url:issue",
                    "outcome": "success",
                    "actor_user_id": n % 50 + 1,
                    "actor_roles": "researcher",
                    "target_type": "file",
                    "target_id": str(n % 7 + 1),
                    "details": {"n": n, "dataset_id": 1},
                }
                for n in range(first_n, first_n + count)
            ],
        )


def sequencer_process(url: str, instance: Path, log: Path) -> subprocess.Popen[bytes]:
    settings = demo_settings(instance, 5998, url)
    environment = {
        **os.environ,
        "CUSTODIAN_ENV": "demo",
        "CUSTODIAN_INSTANCE_DIR": str(instance),
        "CUSTODIAN_DATABASE_URL": url,
        "CUSTODIAN_PUBLIC_URL": settings.public_url,
        "CUSTODIAN_AUDIT_SEQUENCER_BATCH": str(BATCH),
        "CUSTODIAN_AUDIT_SEQUENCER_INTERVAL_MS": "20",
        # This checkout's packages, even where Flask's plugins import them before the app.
        "PYTHONPATH": str(REPO),
    }
    flask = str(Path(sys.executable).with_name("flask"))
    with log.open("wb") as output:
        return subprocess.Popen(
            [flask, "--app", "app:create_app", "audit", "sequence"],
            cwd=REPO,
            env=environment,
            stdout=output,
            stderr=output,
        )


def wait_for(condition: str, check: Callable[[], int], timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.002)
    raise AssertionError(f"timed out waiting for {condition}")


def scalar(engine: Engine, query: Executable) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(query) or 0)


def test_a_sequencer_killed_mid_batch_loses_and_duplicates_nothing_and_a_follower_finishes(
    engine: Engine,
    fresh_database_url: str,
    tmp_path: Path,
) -> None:
    queue_events(engine, FIRST)
    leader = sequencer_process(fresh_database_url, tmp_path, tmp_path / "leader.log")
    follower = None
    chained = select(func.count()).select_from(AuditEvent)
    try:
        wait_for("the first batches", lambda: int(scalar(engine, chained) == FIRST))
        with engine.connect() as blocker:
            # The next batch will have inserted its events when it comes to update these
            # alert windows, and waits there: mid-batch, for as long as the test wants.
            blocker.execute(text("SELECT * FROM audit_alert_windows FOR UPDATE"))
            queue_events(engine, SECOND, first_n=FIRST)
            backend = wait_for("the leader blocked mid-batch", lambda: scalar(engine, MID_BATCH))
            follower = sequencer_process(fresh_database_url, tmp_path, tmp_path / "follower.log")
            time.sleep(1.5)  # the follower has tried to lead, and waits
            assert scalar(engine, LEADERS) == 1
            os.kill(leader.pid, signal.SIGKILL)
            leader.wait(timeout=30)
            gone = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid").bindparams(
                pid=backend
            )
            wait_for("the killed backend to go", lambda: not scalar(engine, gone))
            assert scalar(engine, chained) == FIRST  # nothing of the killed batch stayed
            taken_over = wait_for("the follower to lead", lambda: scalar(engine, MID_BATCH))
            assert taken_over != backend
            blocker.rollback()
        wait_for("the follower to finish", lambda: int(scalar(engine, chained) == FIRST + SECOND))
    finally:
        for process in (leader, follower):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
    with make_session_factory(engine)() as session:
        entries = session.scalars(
            select(AuditEvent.details["n"].as_integer()).order_by(AuditEvent.seq)
        ).all()
        assert sorted(entries) == list(range(FIRST + SECOND))  # each entry once, none lost
        assert session.scalar(select(func.count()).select_from(AuditQueueEntry)) == 0
        report = verify_chain(session)
    assert report.ok and report.events_checked == FIRST + SECOND, report.problem
    assert follower is not None and follower.returncode == 0  # stopped by SIGTERM, cleanly
