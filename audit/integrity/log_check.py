"""``flask audit verify``: the chain and every checkpoint, checked in one pass over the events.

Both checks need the same rows: the chain their fields and hashes, the checkpoints their
leaf hashes. Reading the rows twice (``verify_chain`` then ``verify_checkpoints``) made the
command a third slower than the chain check alone (benchmarks/README.md). Here each batch
is checked as ``verify_chain`` checks it, its leaves grow the Merkle tree a batch at a time
(``Frontier.extend``, as the offline verifier grows its own), and each checkpoint is checked
when the tree reaches its size. The two reports are the ones those functions give: the
chain's stops at its first bad event, while the checkpoints go on over the stored leaves
whatever the chain found, since an auditor wants to know both.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from audit.integrity.chain_check import ChainReport, check_batch, cyclic_gc_paused, stored_rows
from audit.integrity.checkpoints import (
    CheckpointReport,
    CheckpointSigner,
    checkpoint_problem,
    root_lost,
    trusted_keys,
)
from audit.integrity.merkle import Frontier
from audit.integrity.models import AuditCheckpoint
from audit.log.models import GENESIS_HASH


@dataclass(frozen=True)
class LogReport:
    chain: ChainReport
    checkpoints: CheckpointReport

    @property
    def ok(self) -> bool:
        return self.chain.ok and self.checkpoints.ok


def verify_log(session: Session, signer: CheckpointSigner, batch_size: int = 10_000
               ) -> LogReport:
    """Every seq, link, chain hash and leaf hash, and every checkpoint's signature and root,
    reading each event once."""
    tree = _TreeCheck(trusted_keys(session, signer), session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)).all())
    chain: ChainReport | None = None
    checked, prev_hash = 0, GENESIS_HASH
    with cyclic_gc_paused():
        for rows in stored_rows(session, batch_size):
            leaves = None
            if chain is None:
                chain, leaves = check_batch(rows, checked, prev_hash)
                if chain is None:
                    checked, prev_hash = checked + len(rows), rows[-1].hash
            if tree.waiting:
                tree.grow(rows, leaves)
            elif chain is not None:  # both checks have their answer
                break
    return LogReport(chain or ChainReport(True, checked), tree.finish())


class _TreeCheck:
    """The checkpoints not yet reached, and the tree of the leaves read so far."""

    def __init__(self, trusted: list[bytes], checkpoints: Sequence[AuditCheckpoint]) -> None:
        self.trusted, self.pending = trusted, deque(checkpoints)
        self.frontier = Frontier()
        self.checked = 0
        self.problem: str | None = None

    @property
    def waiting(self) -> bool:
        return self.problem is None and bool(self.pending)

    def grow(self, rows: Sequence[Row[Any]], leaves: list[bytes] | None) -> None:
        """Add a batch's leaves, checking each checkpoint whose size they reach. ``leaves``
        are the chain check's digests when it confirmed the whole batch; else the stored
        leaf hashes are decoded, as ``verify_checkpoints`` reads them, and only as far as a
        checkpoint still needs them."""
        done = 0
        while self.waiting and done < len(rows):
            size = self.pending[0].tree_size
            if size <= self.frontier.size:  # no tree grows to it (a row of no real size)
                self._judge()
                continue
            take = min(len(rows) - done, size - self.frontier.size)
            if leaves is not None:
                self.frontier.extend(leaves[done:done + take])
            else:
                try:
                    self.frontier.extend(
                        [bytes.fromhex(row.leaf_hash) for row in rows[done:done + take]])
                except (TypeError, ValueError):  # a leaf that is no hash is in no signed tree
                    self.problem = root_lost(size)
                    return
            done += take
            if self.frontier.size == size:
                self._judge()

    def finish(self) -> CheckpointReport:
        if self.waiting:  # the log ended before the next checkpoint's size
            self._judge()
        return CheckpointReport(self.problem is None, self.checked, self.problem)

    def _judge(self) -> None:
        self.problem = checkpoint_problem(self.pending.popleft(), self.trusted, self.frontier)
        self.checked += self.problem is None
