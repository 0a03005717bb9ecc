"""Inclusion and consistency proofs against signed checkpoints, from the stored tree nodes.

Proofs are served only for checkpointed tree sizes: those are the roots anyone can check
against a signature, and the ones whose nodes are stored. Each proof reads its O(log n)
nodes in at most two queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.integrity.checkpoints import checkpoint_at, fetch_nodes
from audit.integrity.merkle import NodeSource, consistency_proof, inclusion_proof, nodes_needed
from audit.integrity.models import AuditCheckpoint
from audit.log.models import AuditEvent
from core.errors import InvalidInput, NotFound

ProofBuilder = Callable[[NodeSource], list[bytes]]
MAX_SEQ = 2**63 - 1  # what the database can hold; a larger seq in a URL finds nothing


@dataclass(frozen=True)
class InclusionProof:
    seq: int
    leaf_hash: bytes
    checkpoint: AuditCheckpoint
    path: list[bytes]


@dataclass(frozen=True)
class ConsistencyProof:
    old: AuditCheckpoint
    new: AuditCheckpoint
    path: list[bytes]


def prove_inclusion(session: Session, seq: int, tree_size: int | None) -> InclusionProof:
    """Event ``seq`` in the checkpoint of ``tree_size`` (default: the newest checkpoint)."""
    checkpoint = (session.scalar(select(AuditCheckpoint).order_by(
        AuditCheckpoint.tree_size.desc()).limit(1)) if tree_size is None
        else checkpoint_at(session, tree_size))
    if checkpoint is None:
        raise NotFound("There is no checkpoint of that tree size.",
                       details={"tree_size": tree_size})
    leaf = None if seq > MAX_SEQ else session.scalar(
        select(AuditEvent.leaf_hash).where(AuditEvent.seq == seq))
    if leaf is None:
        raise NotFound(f"There is no audit event {seq}.")
    if seq > checkpoint.tree_size:
        raise InvalidInput(
            f"Event {seq} came after the checkpoint of tree size {checkpoint.tree_size}; "
            "ask for a later checkpoint.", details={"tree_size": checkpoint.tree_size})
    path = _build(session, lambda node: inclusion_proof(seq - 1, checkpoint.tree_size, node))
    return InclusionProof(seq, bytes.fromhex(leaf), checkpoint, path)


def prove_consistency(session: Session, old_size: int, new_size: int) -> ConsistencyProof:
    """The checkpoint of ``new_size`` extends that of ``old_size`` (RFC 6962 §2.1.2)."""
    if old_size > new_size:
        raise InvalidInput("A consistency proof goes from a smaller tree to a larger one.",
                           details={"from": old_size, "to": new_size})
    old, new = checkpoint_at(session, old_size), checkpoint_at(session, new_size)
    if old is None or new is None:
        raise NotFound("Both tree sizes must be checkpoints.",
                       details={"from": old_size, "to": new_size})
    path = _build(session, lambda node: consistency_proof(old_size, new_size, node))
    return ConsistencyProof(old, new, path)


def _build(session: Session, proof: ProofBuilder) -> list[bytes]:
    nodes = fetch_nodes(session, nodes_needed(proof))
    return proof(lambda level, position: nodes[(level, position)])
