"""Checking the log from a checkpoint already verified up to a later one, in bounded steps.

``flask audit verify`` rechecks every event, which at 5,000,000 events takes a minute: too
long for a web worker. This check trusts only what an earlier check verified, the signed
root of checkpoint S, and proves that the log still extends it: the stored tree nodes at
S fold to that root, event S is in it, and each event after S links to the one before,
matches its hashes and grows the tree to the root each later checkpoint signed. Its cost is
that of the events it covers, at most ``limit`` of them; when the next checkpoint is farther
than that, it checks nothing and says so (``TooFar``). An edit to an event before S is for
the full check to find.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.integrity.chain_check import check_batch, stored_fields, stored_rows
from audit.integrity.checkpoints import (
    BrokenLog,
    CheckpointSigner,
    checkpoint_at,
    fetch_nodes,
    signing_keys,
)
from audit.integrity.merkle import (
    Frontier,
    decompose,
    inclusion_proof,
    nodes_needed,
    verify_inclusion,
)
from audit.integrity.models import AuditCheckpoint
from audit.integrity.signed_note import Checkpoint, NoteError, open_checkpoint
from audit.log.chain import contradicted_hash
from audit.log.models import GENESIS_HASH

BATCH = 10_000


@dataclass(frozen=True)
class StepReport:
    ok: bool
    from_size: int  # verified before this step
    to_size: int  # verified through, when ok; else as far as it got
    checkpoints_checked: int
    first_bad_seq: int | None = None
    problem: str | None = None


class _Failed(Exception):
    def __init__(self, problem: str, first_bad_seq: int | None = None) -> None:
        super().__init__(problem)
        self.problem, self.first_bad_seq = problem, first_bad_seq


class TooFar(Exception):
    """Nothing was checked: the next checkpoint is beyond the bound."""


def check_from(session: Session, signer: CheckpointSigner, start: int, limit: int
               ) -> StepReport:
    """From the verified checkpoint of tree size ``start`` (0: the empty log) through the
    checkpoints within ``limit`` events of it; TooFar if the next one is farther."""
    trusted = [signer.public_key, *(bytes.fromhex(k.public_key) for k in signing_keys(session))]
    state = _Progress(start, 0)
    try:
        frontier, prev_hash = _resume(session, trusted, start)
        for checkpoint in _checkpoints_after(session, start, limit):
            signed = _signed(checkpoint, trusted)
            prev_hash = _extend(session, frontier, prev_hash, checkpoint.tree_size)
            if frontier.root() != signed.root_hash:
                raise _Failed(f"checkpoint {checkpoint.tree_size}: the events no longer have "
                              "the root it signed")
            state = _Progress(checkpoint.tree_size, state.checked + 1)
    except _Failed as failed:
        return StepReport(False, start, state.size, state.checked, failed.first_bad_seq,
                          failed.problem)
    return StepReport(True, start, state.size, state.checked)


@dataclass(frozen=True)
class _Progress:
    size: int
    checked: int


def _resume(session: Session, trusted: list[bytes], start: int) -> tuple[Frontier, str]:
    """The tree at ``start`` as stored, proved against its signed root, and event
    ``start``'s hash, the link the next event must carry."""
    if start == 0:
        return Frontier(), GENESIS_HASH
    checkpoint = checkpoint_at(session, start)
    if checkpoint is None:
        raise _Failed(f"checkpoint {start}, which an earlier check verified, is gone")
    signed = _signed(checkpoint, trusted)
    edge = decompose(0, start)
    try:
        proof_of_last = nodes_needed(lambda node: inclusion_proof(start - 1, start, node))
        nodes = fetch_nodes(session, {*edge, *proof_of_last})
    except BrokenLog as exc:
        raise _Failed(f"checkpoint {start}: {exc}") from None
    frontier = Frontier(start, [nodes[key] for key in edge])
    if frontier.root() != signed.root_hash:
        raise _Failed(f"checkpoint {start}: the stored tree no longer has the root it signed")
    rows = [row for batch in stored_rows(session, 1, up_to=start, after=start - 1)
            for row in batch]
    if not rows:
        raise _Failed(f"event {start} is missing", start)
    last = rows[0]
    path = inclusion_proof(start - 1, start, lambda level, index: nodes[(level, index)])
    leaf_ok = verify_inclusion(start - 1, start, bytes.fromhex(last.leaf_hash), path,
                               signed.root_hash)
    if not leaf_ok or contradicted_hash(last.prev_hash, stored_fields(last), last.hash,
                                        last.leaf_hash):
        raise _Failed(f"event {start} was altered since checkpoint {start} signed it", start)
    return frontier, str(last.hash)


def _checkpoints_after(session: Session, start: int, limit: int) -> list[AuditCheckpoint]:
    """The checkpoints within ``limit`` events after ``start``; if the next one is farther,
    checking up to it would take longer than the bound allows (``TooFar``)."""
    found = session.scalars(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.tree_size > start, AuditCheckpoint.tree_size <= start + limit)
        .order_by(AuditCheckpoint.tree_size)
    ).all()
    if not found:
        beyond = session.scalar(
            select(func.min(AuditCheckpoint.tree_size)).where(AuditCheckpoint.tree_size > start))
        if beyond is not None:
            raise TooFar(f"the next checkpoint, {beyond}, is {beyond - start} events after the "
                         f"last one verified, more than the {limit} a check from the page "
                         "covers: run flask audit verify")
    return list(found)


def _signed(checkpoint: AuditCheckpoint, trusted: list[bytes]) -> Checkpoint:
    try:
        signed, _ = open_checkpoint(checkpoint.note, trusted)
    except NoteError as exc:
        raise _Failed(f"checkpoint {checkpoint.tree_size}: {exc}") from None
    if (signed.tree_size, signed.root_hash.hex()) != (checkpoint.tree_size,
                                                      checkpoint.root_hash):
        raise _Failed(f"checkpoint {checkpoint.tree_size}: its signed note names another "
                      "tree size or root")
    return signed


def _extend(session: Session, frontier: Frontier, prev_hash: str, up_to: int) -> str:
    """Check events after the frontier through ``up_to``, growing the tree with them."""
    for rows in stored_rows(session, BATCH, up_to=up_to, after=frontier.size):
        failed, leaves = check_batch(rows, frontier.size, prev_hash)  # as verify_chain
        if failed is not None:
            assert failed.problem is not None  # check_batch names what it finds
            raise _Failed(failed.problem, failed.first_bad_seq)
        frontier.extend(leaves if leaves is not None
                        else [bytes.fromhex(row.leaf_hash) for row in rows])
        prev_hash = rows[-1].hash
    if frontier.size != up_to:
        raise _Failed(f"checkpoint {up_to} covers more events than the log holds "
                      f"({frontier.size})", frontier.size + 1)
    return prev_hash
