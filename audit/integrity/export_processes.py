"""The export's event lines encoded in several processes, for ``flask audit export``.

Encoding an event (its canonical bytes, the SHA-256 that confirms them, the line) is pure
Python: one process manages about 85,000 events a second and no faster, whatever the
machine (benchmarks/README.md). Here each worker process opens its own connection, reads
a batch of seqs and returns the batch's lines; the exporting process only writes them, in
seq order, with the checkpoints between them. A batch's lines depend on its own events
alone (``event_batches``), so the file is the same bytes for any number of processes.

Workers are spawned, not forked: the exporting process may hold threads (the sequencer's)
and pooled connections that a fork would copy.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator, Sequence
from multiprocessing.pool import AsyncResult

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from audit.integrity.chain_check import cyclic_gc_paused
from audit.integrity.log_export import BATCH, event_batches

# Batches asked for ahead of the one being written, per worker: enough that no worker
# waits for the writer, few enough that a slow disk holds only a few batches in memory.
AHEAD_PER_PROCESS = 2

_worker_engine: Engine | None = None  # a worker's own, opened by _open_database


def event_batches_in_processes(
    engine: Engine, tree_size: int, processes: int
) -> Iterator[tuple[Sequence[int], list[bytes]]]:
    """``event_batches`` of the events up to ``tree_size``, read and encoded by
    ``processes`` spawned workers on ``engine``'s database, yielded in seq order."""
    database_url = engine.url.render_as_string(hide_password=False)  # to the workers only
    ranges = ((after, min(after + BATCH, tree_size)) for after in range(0, tree_size, BATCH))
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes, initializer=_open_database, initargs=(database_url,)) as pool:
        pending: deque[AsyncResult[list[tuple[list[int], list[bytes]]]]] = deque()
        for seq_range in ranges:
            pending.append(pool.apply_async(_range_batches, seq_range))
            if len(pending) >= processes * AHEAD_PER_PROCESS:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()


def default_export_processes(dialect: str) -> int:
    """A process per core, for a core is what one encodes at most; four leave the
    database its share. SQLite, the embedded default, keeps to the one process it runs in."""
    if dialect != "postgresql":
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def _open_database(database_url: str) -> None:
    global _worker_engine
    from core.db import make_engine  # in the worker only: the parent has its engine

    _worker_engine = make_engine(database_url, pool_size=1, max_overflow=0)


def _range_batches(after: int, up_to: int) -> list[tuple[list[int], list[bytes]]]:
    """The batches of the events with seqs in (after, up_to]: one, unless seqs are
    missing (a damaged log), and none if all are."""
    assert _worker_engine is not None, "the pool's initializer opens the database"
    with Session(_worker_engine) as session, cyclic_gc_paused():
        return [(list(seqs), lines)
                for seqs, lines in event_batches(session, up_to, after=after)]
