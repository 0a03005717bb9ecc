"""Running the sequencer: who integrates, when, and how lag is watched.

``AUDIT_SEQUENCER`` chooses how (config/audit.py):

- ``thread`` (the default outside the demo): each app process hosts a sequencer thread,
  started with its first request. Exactly one leads at a time: the one holding a
  session-level PostgreSQL advisory lock on a connection of its own; the others try again
  every ``FOLLOWER_RETRY`` seconds, and one takes over as soon as the leader's connection
  ends, however it died. The leader looks at the queue every ``AUDIT_SEQUENCER_INTERVAL_MS``
  while it is empty, and integrates back to back while it is not. ``flask audit sequence``
  runs the same loop in a process of its own. No action's transaction takes a lock here.
- ``in_transaction`` (the demo's default, for SQLite): a transaction that queued events
  integrates the queue itself, just before it commits, in the same transaction. SQLite
  lets one transaction write at a time, and this one has held the write lock since it
  queued its first event, so integrating there can wait for nobody: nothing is serialised
  that SQLite did not serialise already, and the events are chained when the action
  commits, before its response is sent (tests rely on that). Checkpoints falling due are
  signed there too, inside that request: the one thing this mode does in a user's request.
  On PostgreSQL it would make every audited commit wait for the chain lock (the design
  revision 0017 left), so settings refuse it there outside the demo.

Why not integrate after the commit, in a session of its own, as this mode first did:
SQLAlchemy also reports the release of a SAVEPOINT as a commit, and the outbox queues each
email in one (access/notifications/outbox.py), so the integration opened a second
connection while its own request's transaction still held SQLite's write lock, and waited
for itself until the busy timeout: every request that queued an email stalled 30 s.

Either way, each batch also takes the chain lock for its transaction
(audit/log/sequencer.py), which alone makes integration exclusive; leadership only spares
the others from waiting on it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine, event, func, select
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

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

    def integrate_within(self, session: Session) -> int:
        """Integrate the whole queue in the caller's transaction, which commits it (the
        ``in_transaction`` mode); entries integrated."""
        total = 0
        while True:
            done = integrate_batch(
                session,
                signer=self.signer,
                rules=self.rules,
                now=self.clock.now(),
                limit=self.batch_size,
            )
            assert done is not None
            observe_audit_lags(done.lags)
            total += done.entries
            if done.entries < self.batch_size:
                return total

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


def integrate_in_transaction(factory: sessionmaker[Session], sequencer: Sequencer) -> None:
    """``in_transaction`` mode: a transaction that queued events integrates before it commits.

    A failure here fails the commit, and with it the action, as any failing audit write
    does. A SAVEPOINT's release is no commit of the transaction: it integrates nothing.
    """

    def before_commit(session: Session) -> None:
        if session.in_nested_transaction() or not session.info.get(QUEUED):
            return
        sequencer.integrate_within(session)

    def after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # committed (and integrated) or rolled back
            session.info.pop(QUEUED, None)

    event.listen(factory, "before_commit", before_commit)
    event.listen(factory, "after_transaction_end", after_transaction_end)
