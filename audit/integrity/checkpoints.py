"""Signed checkpoints of the audit log, written every N events and on demand.

The sequencer signs them, in the transaction of the batch that brings the log to their
size (audit/log/sequencer.py), so checkpoints are ordered like the events and never race
each other, and no user's request waits for a signature. Each one extends the stored
Merkle nodes from the previous checkpoint, so its cost is that of the events since then,
however long the log is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from audit.integrity.merkle import Frontier, NodeKey, decompose
from audit.integrity.models import AuditCheckpoint, AuditMerkleNode, AuditSigningKey
from audit.integrity.signed_note import (
    NoteError,
    checkpoint_text,
    key_id,
    open_checkpoint,
    raw_public_key,
    sign_note,
)
from audit.log.actions import AuditAction
from audit.log.append import AuditActor, QueuedEvent, record_event
from audit.log.models import AuditEvent

NODE_BATCH = 10_000


class BrokenLog(RuntimeError):
    """The stored events or nodes do not form the tree a checkpoint must sign."""


@dataclass(frozen=True)
class CheckpointSigner:
    """This log's identity and key, built once per process from the settings."""

    origin: str
    private_key: Ed25519PrivateKey = field(repr=False)
    every: int
    public_key: bytes
    key_id: bytes

    @classmethod
    def from_seed(cls, seed: bytes, *, origin: str, every: int) -> CheckpointSigner:
        private_key = Ed25519PrivateKey.from_private_bytes(seed)
        public_key = raw_public_key(private_key.public_key())
        return cls(origin, private_key, every, public_key, key_id(origin, public_key))


def request_checkpoint(session: Session, actor: AuditActor, now: datetime) -> QueuedEvent:
    """Ask for a checkpoint: the sequencer signs one at the event recorded here, covering it
    (``asks_for_checkpoint``)."""
    return record_event(session, actor, AuditAction.AUDIT_CHECKPOINT, now=now)


def write_checkpoint(
    session: Session, signer: CheckpointSigner, tree_size: int, now: datetime
) -> AuditCheckpoint:
    previous = session.scalar(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.tree_size <= tree_size)
        .order_by(AuditCheckpoint.tree_size.desc())
        .limit(1)
    )
    if previous is not None and previous.tree_size == tree_size:
        return previous
    start = previous.tree_size if previous else 0
    edge = decompose(0, start)
    stored = fetch_nodes(session, edge)
    frontier = Frontier(start, [stored[key] for key in edge])
    completed: list[tuple[int, int, bytes]] = []
    for (leaf,) in session.execute(
        select(AuditEvent.leaf_hash)
        .where(AuditEvent.seq > start, AuditEvent.seq <= tree_size)
        .order_by(AuditEvent.seq)
    ):
        completed.extend(frontier.append(bytes.fromhex(leaf)))
        if len(completed) >= NODE_BATCH:  # the first checkpoint of a long log: bounded memory
            _store_nodes(session, completed)
    if frontier.size != tree_size:
        raise BrokenLog(f"events {start + 1}..{tree_size} are not all there to checkpoint")
    _store_nodes(session, completed)
    root = frontier.root()
    _register_key(session, signer, now)
    checkpoint = AuditCheckpoint(
        tree_size=tree_size,
        root_hash=root.hex(),
        key_id=signer.key_id.hex(),
        created_at=now,
        note=sign_note(
            checkpoint_text(signer.origin, tree_size, root), signer.origin, signer.private_key
        ),
    )
    session.add(checkpoint)
    return checkpoint


def _store_nodes(session: Session, nodes: list[tuple[int, int, bytes]]) -> None:
    if nodes:
        session.execute(
            insert(AuditMerkleNode),
            [
                {"level": level, "position": position, "hash": digest.hex()}
                for level, position, digest in nodes
            ],
        )
        nodes.clear()


def fetch_nodes(session: Session, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
    """Complete tree nodes by (level, position): leaves from the events, the rest stored."""
    wanted = set(keys)
    leaves = [position + 1 for level, position in wanted if level == 0]
    inner = [key for key in wanted if key[0] > 0]
    found: dict[NodeKey, bytes] = {}
    if leaves:
        for seq, leaf in session.execute(
            select(AuditEvent.seq, AuditEvent.leaf_hash).where(AuditEvent.seq.in_(leaves))
        ):
            found[(0, seq - 1)] = bytes.fromhex(leaf)
    if inner:
        for level, position, digest in session.execute(
            select(AuditMerkleNode.level, AuditMerkleNode.position, AuditMerkleNode.hash).where(
                tuple_(AuditMerkleNode.level, AuditMerkleNode.position).in_(inner)
            )
        ):
            found[(level, position)] = bytes.fromhex(digest)
    if len(found) != len(wanted):
        raise BrokenLog(f"tree nodes are missing: {sorted(wanted - set(found))[:5]}")
    return found


def checkpoint_at(session: Session, tree_size: int) -> AuditCheckpoint | None:
    return session.get(AuditCheckpoint, tree_size)


def checkpoints_page(
    session: Session, *, before: int | None, limit: int
) -> tuple[Sequence[AuditCheckpoint], int | None]:
    """Newest first, keyset-paginated on the tree size; also the ``before`` of the next page."""
    query = select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(AuditCheckpoint.tree_size < before)
    found = session.scalars(query).all()
    page = found[:limit]
    return page, page[-1].tree_size if len(found) > limit else None


def signing_keys(session: Session) -> Sequence[AuditSigningKey]:
    return session.scalars(
        select(AuditSigningKey).order_by(AuditSigningKey.first_used_at, AuditSigningKey.key_id)
    ).all()


def published_keys(
    session: Session, signer: CheckpointSigner
) -> tuple[AuditSigningKey, list[AuditSigningKey]]:
    """The signing key, and the keys rotated out (which still verify their checkpoints).

    The signing key is shown even before its first checkpoint registers it.
    """
    known = signing_keys(session)
    current = next((key for key in known if key.key_id == signer.key_id.hex()), None)
    if current is None:
        current = AuditSigningKey(
            key_id=signer.key_id.hex(),
            name=signer.origin,
            public_key=signer.public_key.hex(),
            first_used_at=None,
        )
    return current, [key for key in reversed(known) if key is not current]


@dataclass(frozen=True)
class CheckpointReport:
    ok: bool
    checkpoints_checked: int
    problem: str | None = None


def verify_checkpoints(
    session: Session, signer: CheckpointSigner, batch_size: int = 50_000
) -> CheckpointReport:
    """Every checkpoint's signature, and its root recomputed from the events' leaf hashes.

    Trusts the keys this log registered, and the configured one. That catches edits to
    the tables; it cannot catch someone who holds the signing key and rewrites everything,
    which is what offline verification against pinned keys and saved checkpoints is for.
    ``flask audit verify`` makes these checks in the same pass as the chain's
    (integrity/log_check.py); this one reads the leaf hashes alone.
    """
    trusted = trusted_keys(session, signer)
    leaves = _leaf_hashes(session, batch_size)
    frontier = Frontier()
    checked = 0
    rows = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)).all()
    for row in rows:
        try:
            for leaf in islice(leaves, max(0, row.tree_size - frontier.size)):
                frontier.append(leaf)
        except (TypeError, ValueError):  # a leaf that is no hash is in no signed tree
            return CheckpointReport(False, checked, root_lost(row.tree_size))
        problem = checkpoint_problem(row, trusted, frontier)
        if problem is not None:
            return CheckpointReport(False, checked, problem)
        checked += 1
    return CheckpointReport(True, checked)


def trusted_keys(session: Session, signer: CheckpointSigner) -> list[bytes]:
    """The configured public key and every key this log registered."""
    return [signer.public_key, *(bytes.fromhex(key.public_key) for key in signing_keys(session))]


def checkpoint_problem(
    row: AuditCheckpoint, trusted: Sequence[bytes], frontier: Frontier
) -> str | None:
    """What is wrong with a checkpoint, given the tree of the log's leaves up to its size
    (or all of them, if the log holds fewer): its signature, then its size, then its root."""
    if row.tree_size < 1:  # written by no sequencer: a row put there by hand
        return f"checkpoint {row.tree_size}: no tree of events has that size"
    try:
        signed, _ = open_checkpoint(row.note, trusted)
    except NoteError as exc:
        return f"checkpoint {row.tree_size}: {exc}"
    if (signed.tree_size, signed.root_hash.hex()) != (row.tree_size, row.root_hash):
        return f"checkpoint {row.tree_size}: its signed note names another tree size or root"
    if frontier.size != row.tree_size:
        return (f"checkpoint {row.tree_size} covers more events than the log holds "
                f"({frontier.size})")
    if frontier.root() != signed.root_hash:
        return root_lost(row.tree_size)
    return None


def root_lost(tree_size: int) -> str:
    """The verdict on a checkpoint whose events, as stored now, are not the tree it signed
    (a leaf changed, or one that is no hash at all)."""
    return f"checkpoint {tree_size}: the events no longer have the root it signed"


def _leaf_hashes(session: Session, batch_size: int) -> Iterator[bytes]:
    last = 0
    while batch := session.execute(
        select(AuditEvent.seq, AuditEvent.leaf_hash)
        .where(AuditEvent.seq > last)
        .order_by(AuditEvent.seq)
        .limit(batch_size)
    ).all():
        yield from (bytes.fromhex(leaf) for _, leaf in batch)
        last = batch[-1][0]


def _register_key(session: Session, signer: CheckpointSigner, now: datetime) -> None:
    if session.get(AuditSigningKey, signer.key_id.hex()) is None:
        session.add(
            AuditSigningKey(
                key_id=signer.key_id.hex(),
                name=signer.origin,
                public_key=signer.public_key.hex(),
                first_used_at=now,
            )
        )
        session.flush()  # before the checkpoint that refers to it
