"""The README's backup runbook, run as written while the service serves and writes audit
events: ``pg_dump -Fc``, a restore into a new database, and ``flask audit verify`` on it
(the chain and its checkpoints intact). A PostgreSQL cluster of its own, set up by the
README's own database steps; the service is gunicorn with the shipped config, running as
the app's role."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.gunicorn_service import GUNICORN_CONFIG
from tests.ports import HeldPort
from tests.postgres import PostgresCluster, throwaway_cluster
from tests.runbooks import ROOT, app_url, production_environment, run, runbook

WRITES_BEFORE_DUMP = 30


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    with throwaway_cluster() as started:
        yield started


def audit_counts(cluster: PostgresCluster, database: str) -> tuple[int, int, int]:
    """Events chained, checkpoints, and events queued but not yet chained."""
    engine = create_engine(app_url(cluster, "postgres", database))
    try:
        with engine.connect() as connection:
            return (
                connection.scalar(text("SELECT count(*) FROM audit_events")) or 0,
                connection.scalar(text("SELECT count(*) FROM audit_checkpoints")) or 0,
                connection.scalar(text("SELECT count(*) FROM audit_queue")) or 0,
            )
    finally:
        engine.dispose()


class Refusals(threading.Thread):
    """A client the service turns away, each time on the record: a form post without its
    CSRF token is refused and audited (a refusal is an audit event like any action)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stopping, self.refused = url, threading.Event(), 0

    def run(self) -> None:
        with requests.Session() as browser:
            while not self.stopping.is_set():
                answer = browser.post(f"{self.url}/auth/logout", timeout=10)
                assert answer.status_code == 400, answer.text
                self.refused += 1


def test_a_dump_taken_while_the_service_writes_restores_and_verifies(
    cluster: PostgresCluster,
    tmp_path: Path,
) -> None:
    held = HeldPort()
    env = production_environment(
        cluster,
        tmp_path,
        {
            "CUSTODIAN_AUDIT_CHECKPOINT_EVERY": "5",
            "CUSTODIAN_RATE_LIMITS": "false",
            "CUSTODIAN_PUBLIC_URL": held.url,
        },
    )
    for step in ("database-setup", "database-release"):
        done = run(runbook(step), env, cluster)
        assert done.returncode == 0, done.stderr
    sock = held.listen()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        service = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "--config",
                str(GUNICORN_CONFIG),
                "--workers",
                "2",
                "--bind",
                f"fd://{sock.fileno()}",
                "app:create_app()",
            ],
            cwd=ROOT,
            env={**env, "CUSTODIAN_DATABASE_URL": app_url(cluster, "custodian_app")},
            stdout=output,
            stderr=output,
            pass_fds=(sock.fileno(),),
        )
    writer = Refusals(held.url)
    try:
        wait_until(lambda: requests.get(f"{held.url}/readyz", timeout=2).ok, log)
        writer.start()
        wait_until(lambda: audit_counts(cluster, "custodian")[0] >= WRITES_BEFORE_DUMP, log)
        dumped = run(runbook("backup"), env, cluster, cwd=tmp_path)
        assert dumped.returncode == 0, dumped.stderr
        at_dump = audit_counts(cluster, "custodian")[0]
        wait_until(lambda: audit_counts(cluster, "custodian")[0] > at_dump + 10, log)
    finally:
        writer.stopping.set()
        writer.join(timeout=30)
        service.terminate()
        service.wait(timeout=30)
        held.close()
    assert writer.refused > WRITES_BEFORE_DUMP

    restored = run(runbook("restore"), env, cluster, cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr + restored.stdout
    said = re.fullmatch(
        r"OK: (\d+) audit events verified; the chain is intact\. "
        r"(\d+) checkpoints verified\.(?: (\d+) events? not yet chained, the oldest "
        r"[\d.]+ s old\.)?\n",
        restored.stdout,
    )
    assert said is not None, restored.stdout
    verified, checkpoints, unchained = int(said[1]), int(said[2]), int(said[3] or 0)
    # Every event and checkpoint the dump held, and the events it held still queued; verify's
    # own event waits in the queue too (on PostgreSQL a command hosts no sequencer).
    events, stored_checkpoints, queued = audit_counts(cluster, "custodian_restored")
    assert (verified, stored_checkpoints) == (events, checkpoints) and checkpoints >= 5
    assert queued == unchained + 1
    # A snapshot from the middle of the run: more than before it, less than at the end.
    assert WRITES_BEFORE_DUMP <= verified < audit_counts(cluster, "custodian")[0]


def wait_until(condition: Callable[[], bool], log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out; gunicorn said: {log.read_text()[-2000:]}")
