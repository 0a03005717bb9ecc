"""``flask audit export``: the whole log as JSON Lines, for ``python -m audit.verify``.

The export is recorded as an event first, and the log is checkpointed at that event, so a
signature covers the file down to its last event and cutting lines off the end shows.
Lines, in order: a header, the public keys, then the events by seq, each checkpoint
right after the event that completes its tree. That order lets the verifier check every
checkpoint as it streams, holding only O(log n) hashes, however long the log.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import repeat
from operator import itemgetter
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session, sessionmaker

from audit.integrity.chain_check import stored_fields, stored_rows
from audit.integrity.checkpoints import BrokenLog, CheckpointSigner, fetch_nodes, signing_keys
from audit.integrity.export_format import (
    EVENT_HEAD,
    FORMAT,
    HEX_HASH,
    VERSION,
    are_hashes,
    event_line,
    laid_out_line,
)
from audit.integrity.merkle import NodeKey, consistency_proof, nodes_needed
from audit.integrity.models import AuditCheckpoint
from audit.integrity.signed_note import public_key_pem, verifier_key
from audit.log.actions import AuditAction
from audit.log.alarm import commit_audited
from audit.log.append import AuditActor, record_event
from audit.log.chain import (
    bet_encodings,
    chain_format,
    encoding_hashes,
    format_timestamp,
    linked_hashes,
    stored_columns,
)
from audit.log.sequencing import Sequencer
from core.errors import Unavailable

BATCH = 5000
PROOFS_READ_TOGETHER = 64
CHAIN_WAIT_SECONDS = 10.0  # several times the sequencer's lag under load (benchmarks/)


def start_log_export(
    factory: sessionmaker[Session],
    sequencer: Sequencer,
    actor: AuditActor,
    *,
    destination: str,
    now: datetime,
) -> int:
    """Record the export in a transaction of its own, and wait for it to be chained and
    checkpointed: the export ends at that checkpoint, whose tree size this returns."""
    with factory() as session:
        entry = record_event(
            session,
            actor,
            AuditAction.AUDIT_EXPORT,
            now=now,
            details={
                "format": "verifiable-jsonl",
                "scope": "whole log",
                "destination": destination[:200],
            },
        )
        commit_audited(session)
    tree_size = sequencer.chained_seq(entry.id, timeout=CHAIN_WAIT_SECONDS)
    if tree_size is None:
        raise Unavailable(
            "The audit log is behind: the export is recorded, but its events "
            "are not all chained yet. Try again in a moment."
        )
    return tree_size


def stream_log_export(
    factory: sessionmaker[Session], tree_size: int, *, now: datetime, signer: CheckpointSigner
) -> Iterator[bytes]:
    """The export's lines, read in a session of their own: the caller's has committed the
    export's event and checkpoint before the first line."""
    with factory() as session:
        yield from export_lines(session, tree_size, now=now, signer=signer)


def export_lines(
    session: Session,
    tree_size: int,
    *,
    now: datetime,
    signer: CheckpointSigner,
    batches: Iterable[tuple[Sequence[int], list[bytes]]] | None = None,
) -> Iterator[bytes]:
    """The export (UTF-8) in pieces of whole lines: the events' a batch at a time, joined,
    since a piece per event cost the writer and each generator on the way a step each. In
    bytes, since the events' encodings are bytes already: laying out lines as text and
    encoding them again was a quarter of the export's time (non-ASCII details make the
    text wide, and widening and encoding it are slow).

    ``batches`` are the events' lines if already being made elsewhere (in processes of
    their own: integrity/export_processes.py); by default, ``event_batches`` in ``session``.
    """
    if batches is None:
        batches = event_batches(session, tree_size)
    yield _line(
        {
            "type": "header",
            "format": FORMAT,
            "version": VERSION,
            "origin": signer.origin,
            "tree_size": tree_size,
            "exported_at": format_timestamp(now),
        }
    )
    for key in signing_keys(session):
        public_key = bytes.fromhex(key.public_key)
        yield _line(
            {
                "type": "public_key",
                "name": key.name,
                "key_id": key.key_id,
                "public_key_pem": public_key_pem(public_key),
                "verifier_key": verifier_key(key.name, public_key),
                "current": key.key_id == signer.key_id.hex(),
            }
        )
    listed = session.scalars(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.tree_size <= tree_size)
        .order_by(AuditCheckpoint.tree_size)
    ).all()
    checkpoints, records = deque(listed), _checkpoint_records(session, listed)
    for seqs, lines in batches:
        # Each checkpoint right after the event of its tree size, found in the batch's seqs
        # (ascending) rather than by a test per event.
        done = 0
        while checkpoints and checkpoints[0].tree_size <= seqs[-1]:
            at = bisect_left(seqs, checkpoints[0].tree_size)
            if seqs[at] != checkpoints[0].tree_size:
                break  # no event of its size (a cut log): it and those after it never follow one
            yield b"".join(lines[done:at + 1])
            done = at + 1
            checkpoints.popleft()
            yield _line(next(records))
        if done < len(lines):
            yield b"".join(lines[done:])


def event_batches(session: Session, tree_size: int, after: int = 0
                  ) -> Iterator[tuple[Sequence[int], list[bytes]]]:
    """Each batch's seqs and lines, of the events after seq ``after`` up to ``tree_size``,
    in the layout the verifier reads fastest. A batch's
    encodings are built a column at a time (``bet_encodings``), as ``flask audit verify``
    builds them, and each is used only if it reproduces the event's stored hashes, as it does
    for every event the app wrote and nobody changed; any other event is encoded one by one
    from its parsed fields (``event_line``), so the verifier sees it as it is stored."""
    for rows in stored_rows(session, BATCH, up_to=tree_size, after=after):
        columns = stored_columns(rows)
        encoded = bet_encodings(columns)
        confirmed = None if encoded is None else confirmed_batch_lines(columns, encoded)
        if confirmed is not None:
            yield columns["seq"], confirmed
            continue
        encodings: Sequence[bytes | None] = [None] * len(rows) if encoded is None else encoded
        yield columns["seq"], [
            (_confirmed_line(row, encoding) or event_line(stored_fields(row))).encode()
            for row, encoding in zip(rows, encodings, strict=True)]


def confirmed_batch_lines(
    columns: Mapping[str, Sequence[Any]], encodings: list[bytes]
) -> list[bytes] | None:
    """The lines of a whole batch of LINKED events whose encodings all reproduce their stored
    hashes, built with no Python frame per event; None if any does not (each event is then
    judged on its own, ``_confirmed_line``). A confirmed hash is a SHA-256 hex digest, and so
    is a link equal to the hash before it: only the first link, or all of them when they do
    not follow the hashes, need the check that they are hashes."""
    prevs, hashes, leaves = columns["prev_hash"], columns["hash"], columns["leaf_hash"]
    try:
        if hashes != leaves or linked_hashes(prevs, encodings) != list(hashes):
            return None
    except (TypeError, ValueError):
        return None
    links_follow = tuple(prevs[1:]) == tuple(hashes[:-1])
    if not all(map(HEX_HASH.fullmatch, prevs[:1] if links_follow else prevs)):
        return None
    # EVENT_HEAD % (prev, hash, leaf), encoded, + encoding[1:] + newline, mapped in C.
    heads = map(str.encode, map("".join, zip(repeat(_OPENING), prevs, repeat(_AFTER_PREV),
                                             hashes, repeat(_AFTER_HASH), leaves,
                                             repeat(_AFTER_LEAF))))
    return list(map(b"".join, zip(heads, map(_WITHOUT_BRACE, encodings), repeat(b"\n"))))


_OPENING, _AFTER_PREV, _AFTER_HASH, _AFTER_LEAF = EVENT_HEAD.split("%s")
_WITHOUT_BRACE = itemgetter(slice(1, None))


def _confirmed_line(row: Row[Any], encoding: bytes | None) -> str | None:
    hashes = (row.prev_hash, row.hash, row.leaf_hash)
    if encoding is None or not are_hashes(hashes):
        return None
    fmt = chain_format(row.hash, row.leaf_hash)
    if encoding_hashes(row.prev_hash, encoding, fmt) != (row.hash, row.leaf_hash):
        return None
    return laid_out_line(hashes, encoding)


def _checkpoint_records(
    session: Session, checkpoints: Sequence[AuditCheckpoint]
) -> Iterator[dict[str, Any]]:
    """The checkpoints' records, in order, each with the proof that it extends the one before
    it. The tree nodes of PROOFS_READ_TOGETHER proofs are read in one query: a query each
    was a round trip per checkpoint (a thousand in a million events checkpointed every
    1,000), which the export waited for while its encoding processes ran ahead."""
    for start in range(0, len(checkpoints), PROOFS_READ_TOGETHER):
        pairs = [(checkpoints[index - 1] if index else None, checkpoints[index])
                 for index in range(start, min(start + PROOFS_READ_TOGETHER, len(checkpoints)))]
        wanted = set().union(*(_proof_nodes(previous, checkpoint)
                               for previous, checkpoint in pairs if previous is not None))
        try:
            nodes: Mapping[NodeKey, bytes] | None = fetch_nodes(session, wanted)
        except BrokenLog:
            # Proved one at a time then, so the export stops at the first checkpoint whose
            # proof cannot be made, as it always has.
            nodes = None
        for previous, checkpoint in pairs:
            yield _checkpoint_record(session, checkpoint, previous, nodes)


def _proof_nodes(previous: AuditCheckpoint, checkpoint: AuditCheckpoint) -> set[NodeKey]:
    old, new = previous.tree_size, checkpoint.tree_size
    return nodes_needed(lambda node: consistency_proof(old, new, node))


def _checkpoint_record(
    session: Session,
    checkpoint: AuditCheckpoint,
    previous: AuditCheckpoint | None,
    nodes: Mapping[NodeKey, bytes] | None = None,
) -> dict[str, Any]:
    """The checkpoint, with the proof that it extends the one before it (if any), from
    ``nodes`` if read already."""
    record: dict[str, Any] = {
        "type": "checkpoint",
        "tree_size": checkpoint.tree_size,
        "created_at": format_timestamp(checkpoint.created_at),
        "note": checkpoint.note,
        "consistency": None,
    }
    if previous is not None:
        old, new = previous.tree_size, checkpoint.tree_size
        if nodes is None:
            nodes = fetch_nodes(session, _proof_nodes(previous, checkpoint))
        found = nodes
        proof = consistency_proof(old, new, lambda level, position: found[(level, position)])
        record["consistency"] = {"from": old, "proof": [digest.hex() for digest in proof]}
    return record


def _line(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
