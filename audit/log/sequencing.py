"""Running the sequencer: who integrates, when, and how lag is watched.

``AUDIT_SEQUENCER`` chooses how (config/audit.py):

- ``thread`` (the default outside the demo): each app process hosts a sequencer thread,
  started with its first request. Exactly one leads at a time: the one holding a
  session-level PostgreSQL advisory lock on a connection of its own; the others try again
  every ``FOLLOWER_RETRY`` seconds, and one takes over as soon as the leader's connection
  ends, however it died. The leader looks at the queue every ``AUDIT_SEQUENCER_INTERVAL_MS``
  while it is empty, and integrates back to back while it is not. ``flask audit sequence``
  runs the same loop in a process of its own.
- ``after_commit`` (the demo's default): the process that commits an audited transaction
  integrates right after it, so one process on SQLite needs no thread and no polling, and
  what a request recorded is chained before its response is sent. Tests rely on that.

Either way, each batch also takes the chain lock for its transaction
(audit/log/sequencer.py), which alone makes integration exclusive; leadership only spares
the others from waiting on it. Use one mode per deployment: an ``after_commit`` process
beside a ``thread`` leader would wait on the leader's lock after every commit.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from audit.integrity.checkpoints import CheckpointSigner
from audit.log.append import QUEUED
from audit.log.models import AuditEvent, AuditQueueEntry
from audit.log.sequencer import CHAIN_LOCK_KEY, Integrated, integrate_batch
from audit.review.alerts import AlertRules
from core.clock import Clock
from core.metrics import observe_audit_backlog, observe_audit_lags

log = logging.getLogger(__name__)
FOLLOWER_RETRY = 1.0  # seconds between a follower's attempts to lead
FAILURE_PAUSE = 1.0  # seconds before leading again after an error, doubling while it fails
MAX_FAILURE_PAUSE = 30.0


@dataclass(frozen=True)
class Backlog:
    """Events recorded but not yet chained: how many, and the oldest one's age (seconds)."""

    unchained: int
    oldest_seconds: float


def backlog(session: Session, now: datetime) -> Backlog:
    count, oldest = session.execute(
        select(func.count(), func.min(AuditQueueEntry.occurred_at))
    ).one()
    age = 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
    observe_audit_backlog(count, age)
    return Backlog(count, age)


@dataclass
class Sequencer:
    engine: Engine
    factory: sessionmaker[Session]
    signer: CheckpointSigner
    rules: AlertRules
    clock: Clock
    batch_size: int
    interval: float
    _stopping: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _thread_pid: int | None = None
    _start_lock: threading.Lock = field(default_factory=threading.Lock)

    def integrate(self, session: Session, *, wait: bool = True) -> Integrated | None:
        """One batch in ``session``, committed; None if another holds the lock (``wait``)."""
        try:
            done = integrate_batch(
                session,
                signer=self.signer,
                rules=self.rules,
                now=self.clock.now(),
                limit=self.batch_size,
                wait=wait,
            )
            session.commit()
        except BaseException:
            session.rollback()
            raise
        if done is not None:
            observe_audit_lags(done.lags)
        return done

    def drain(self) -> int:
        """Integrate until the queue is empty, waiting for the lock; entries integrated."""
        total = 0
        while True:
            with self.factory() as session:
                done = self.integrate(session)
            assert done is not None
            total += done.entries
            if done.entries < self.batch_size:
                return total

    def chained_seq(self, entry_id: int, timeout: float) -> int | None:
        """The position of a queued entry once it is chained, integrating it here if no
        other sequencer leads; None if it is not chained within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            with self.factory() as session:
                seq = session.scalar(select(AuditEvent.seq).where(AuditEvent.entry_id == entry_id))
                if seq is not None:
                    return seq
                if time.monotonic() > deadline:
                    return None
                if self.integrate(session, wait=False) is None:
                    time.sleep(min(self.interval, 0.05))

    def lead(self) -> None:
        """Lead whenever this process can, until ``stop``: the loop of the thread and of
        ``flask audit sequence``."""
        pause = FAILURE_PAUSE
        while not self._stopping.is_set():
            try:
                if not self._lead_once():
                    self._stopping.wait(FOLLOWER_RETRY)
                pause = FAILURE_PAUSE
            except Exception:
                log.exception("the audit sequencer failed; it starts again in %s s", pause)
                self._stopping.wait(pause)
                pause = min(pause * 2, MAX_FAILURE_PAUSE)

    def _lead_once(self) -> bool:
        """Integrate while this process holds leadership; False if another leads."""
        with self.engine.connect() as connection:
            postgres = connection.dialect.name == "postgresql"
            if postgres:
                leading = connection.scalar(select(func.pg_try_advisory_lock(CHAIN_LOCK_KEY)))
                connection.commit()
                if not leading:
                    return False
            try:
                with self.factory(bind=connection) as session:
                    while not self._stopping.is_set():
                        done = self.integrate(session)
                        if done is None or done.entries < self.batch_size:
                            backlog(session, self.clock.now())
                            session.commit()
                            self._stopping.wait(self.interval)
            finally:
                if postgres:
                    _give_up(connection)
        return True

    def start(self) -> None:
        """Start this process's thread, once per process (a fork has none of its parent's)."""
        with self._start_lock:
            if self._thread_pid == os.getpid():
                return
            self._stopping.clear()
            self._thread = threading.Thread(target=self.lead, name="audit-sequencer", daemon=True)
            self._thread_pid = os.getpid()
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None and self._thread_pid == os.getpid():
            self._thread.join(timeout=30)
        self._thread, self._thread_pid = None, None


def _give_up(connection: Connection) -> None:
    """Release leadership before the connection goes back to the pool, or drop it."""
    try:
        connection.rollback()
        connection.execute(select(func.pg_advisory_unlock(CHAIN_LOCK_KEY)))
        connection.commit()
    except Exception:
        connection.invalidate()


def integrate_after_commit(factory: sessionmaker[Session], sequencer: Sequencer) -> None:
    """``after_commit`` mode: a session that queued events integrates once it commits.

    A failure here cannot undo the committed action; it is logged, and the entries wait
    for the next commit (``flask audit verify`` reports them meanwhile).
    """

    def after_commit(session: Session) -> None:
        if not session.info.pop(QUEUED, False):
            return
        try:
            sequencer.drain()
        except Exception:
            log.exception("integrating audit events after a commit failed")

    event.listen(factory, "after_commit", after_commit)
