"""Canonical encoding and hashing of audit events.

Standard library only, on purpose: the same rules must be reproducible by an auditor's
verifier that has nothing of this application installed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from itertools import repeat
from operator import methodcaller
from typing import Any

from audit.integrity.merkle import LEAF_PREFIX, leaf_hash

# The fields that are hashed, in the order documented for verifiers.
HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "action",
    "outcome",
    "actor_user_id",
    "actor_issuer",
    "actor_subject",
    "actor_token_id",
    "actor_roles",
    "ip",
    "user_agent",
    "request_id",
    "target_type",
    "target_id",
    "details",
)


def format_timestamp(moment: datetime) -> str:
    """UTC, microseconds, trailing Z: one spelling per instant, whatever the database returns."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# Fields added after the first release, left out of the encoding while null, so that
# events recorded before them keep the bytes (and hashes) they were written with.
LATER_FIELDS = frozenset({"actor_roles"})
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_bytes(fields: Mapping[str, Any]) -> bytes:
    """Sorted keys, no insignificant white space, UTF-8: a stable encoding of one event."""
    record = {name: fields[name] for name in HASHED_FIELDS if name not in LATER_FIELDS}
    for name in LATER_FIELDS:
        if fields.get(name) is not None:
            record[name] = fields[name]
    if isinstance(record["occurred_at"], datetime):
        record["occurred_at"] = format_timestamp(record["occurred_at"])
    return _ENCODER.encode(record).encode("utf-8")


# How an event's two hashes are computed: its chain format. Both are SHA-256 over the
# previous event's hash (32 raw bytes, zeros before the first event) and the canonical
# bytes, and they are told apart by the stored hashes themselves, since one cannot pass for
# the other without a SHA-256 collision:
# - SEPARATE, events recorded before 2026-11-25: hash = SHA-256(prev ‖ canonical) and
#   leaf_hash = SHA-256(0x00 ‖ canonical), two hashes of the whole event;
# - LINKED, every event since: hash = leaf_hash = SHA-256(0x00 ‖ prev ‖ canonical), the
#   RFC 6962 leaf of the entry (link, event). One hash of the event serves the chain and
#   the Merkle tree, which is most of what verifying a million events costs
#   (benchmarks/README.md).
SEPARATE, LINKED = 1, 2


def chain_format(hash_hex: object, leaf_hash_hex: object) -> int:
    return LINKED if hash_hex == leaf_hash_hex else SEPARATE


def encoding_hashes(prev_hash: str, encoded: bytes, fmt: int = LINKED) -> tuple[str, str]:
    """The chain hash and the Merkle leaf hash (hex) of an event's canonical bytes."""
    prev = bytes.fromhex(prev_hash)
    if fmt == LINKED:
        digest = leaf_hash(prev + encoded).hex()
        return digest, digest
    return hashlib.sha256(prev + encoded).hexdigest(), leaf_hash(encoded).hex()


def event_hashes(prev_hash: str, fields: Mapping[str, Any], fmt: int = LINKED) -> tuple[str, str]:
    """The chain hash and the Merkle leaf hash of an event: new events are ``LINKED``; a
    stored one is checked in the format its stored hashes show (``chain_format``)."""
    return encoding_hashes(prev_hash, canonical_bytes(fields), fmt)


def contradicted_hash(prev_hash: str, fields: Mapping[str, Any], stated_hash: object,
                      stated_leaf: object) -> str | None:
    """Which stored hash an event's content contradicts, "hash" or "leaf_hash", if any."""
    fmt = chain_format(stated_hash, stated_leaf)
    chain, leaf = event_hashes(prev_hash, fields, fmt)
    if chain == stated_hash:
        return None if leaf == stated_leaf else "leaf_hash"
    # A LINKED event whose leaf hash alone was changed reads as SEPARATE.
    if fmt == SEPARATE and event_hashes(prev_hash, fields)[0] == stated_hash:
        return "leaf_hash"
    return "hash"


# A stored event as ``doubtful_rows`` reads it: the hashed fields, then its three hashes.
STORED_FIELDS = (*HASHED_FIELDS, "prev_hash", "hash", "leaf_hash")


def stored_columns(rows: Sequence[Sequence[Any]]) -> dict[str, tuple[Any, ...]]:
    """A batch of stored rows (``STORED_FIELDS``) as its columns, by field name."""
    return dict(zip(STORED_FIELDS, zip(*rows, strict=True), strict=True))


def bet_encodings(columns: Mapping[str, Sequence[Any]]) -> list[bytes] | None:
    """The canonical bytes of each row of a batch (``bet_texts``, encoded)."""
    texts = bet_texts(columns)
    return None if texts is None else list(map(str.encode, texts))


def bet_texts(columns: Mapping[str, Sequence[Any]]) -> list[str] | None:
    """The canonical encoding of each row of a batch, as text, built a column at a time with
    the C encoders, on the bet that the stored JSON text is already canonical, which is how
    the app writes it; None when a value has an unexpected type.

    Rows hold ``details`` as its JSON text and ``occurred_at`` as a naive UTC datetime. Every
    value but the JSON text is escaped or of a fixed alphabet, so a lost bet gives bytes that
    do not hash to what was stored, never the bytes of other fields: callers confirm each
    encoding against the stored hashes, and judge the rest with ``canonical_bytes``.
    """
    try:
        parts: list[Iterable[str]] = []
        for before, name, encode in _LAYOUT:
            parts += (repeat(before), encode(columns[name]))
        parts.append(repeat(_CLOSE))
        return list(map("".join, zip(*parts, strict=False)))
    except (TypeError, ValueError):
        return None


def linked_hashes(prevs: Iterable[str], encodings: Iterable[bytes]) -> list[str]:
    """The LINKED hash (hex) of each event of a batch from its link and its encoding, each
    step mapped over the batch by C code: no Python frame per event, which was a third of
    what checking an event cost. Raises ValueError or TypeError on a link that is no hash."""
    return list(map(_HEXDIGEST, _linked_sha256(prevs, encodings)))


def linked_digests(prevs: Iterable[str], encodings: Iterable[bytes]) -> list[bytes]:
    """``linked_hashes`` as raw digests, for a caller that also needs them as bytes."""
    return list(map(_DIGEST, _linked_sha256(prevs, encodings)))


def _linked_sha256(prevs: Iterable[str], encodings: Iterable[bytes]) -> Iterator[Any]:
    prefixed = map(LEAF_PREFIX.__add__, map(bytes.fromhex, prevs))
    return map(hashlib.sha256, map(bytes.__add__, prefixed, encodings))


_HEXDIGEST, _DIGEST = methodcaller("hexdigest"), methodcaller("digest")


def doubtful_rows(rows: Sequence[Sequence[Any]], first_seq: int, prev_hash: str) -> list[int]:
    """Indexes of the rows of a batch that may be broken; every other row is verified.

    The rows' encodings are the batch's bet (``bet_encodings``), each hashed in the chain
    format its stored hashes show. A lost bet only makes a row doubtful, never passes a bad
    one; the caller rechecks doubtful rows with ``event_hashes``, which decides.
    """
    return checked_rows(rows, first_seq, prev_hash)[0]


def checked_rows(rows: Sequence[Sequence[Any]], first_seq: int, prev_hash: str
                 ) -> tuple[list[int], list[bytes] | None]:
    """``doubtful_rows``, and the rows' Merkle leaves as raw bytes when the whole batch was
    confirmed in one go (all LINKED, as the app writes): the digests just computed, equal to
    the stored leaf hashes, so a caller growing the tree need not decode them again."""
    columns = stored_columns(rows)
    prevs, hashes, leaves = columns["prev_hash"], columns["hash"], columns["leaf_hash"]
    encoded = bet_encodings(columns)
    if encoded is None:  # a value of an unexpected type: let the caller judge
        return list(range(len(rows))), None
    linked_to = [prev_hash, *hashes[:-1]]
    seqs = range(first_seq, first_seq + len(rows))
    in_place = list(columns["seq"]) == list(seqs) and list(prevs) == linked_to
    if in_place and hashes == leaves:  # all LINKED, as the app writes events since 2026-11-25
        try:
            digests = linked_digests(prevs, encoded)
        except (TypeError, ValueError):
            return list(range(len(rows))), None
        # Compared as hex, as stored: a hash spelt in capitals is a changed row.
        if tuple(map(bytes.hex, digests)) == hashes:
            return [], digests
    stated = list(zip(hashes, leaves, strict=True))
    try:
        computed = [encoding_hashes(prev, encoding, chain_format(*pair))
                    for prev, encoding, pair in zip(prevs, encoded, stated, strict=True)]
    except (TypeError, ValueError):
        return list(range(len(rows))), None
    if in_place and computed == stated:
        return [], None
    return [i for i, row in enumerate(zip(columns["seq"], seqs, prevs, linked_to, computed,
                                          stated, strict=True))
            if row[0] != row[1] or row[2] != row[3] or row[4] != row[5]], None


Encoder = Callable[[Sequence[Any]], list[str]]


# A column without nulls (most of them) is mapped through a C function, with no Python
# frame per value: a third of the time of checking an event went to these two.
def _strings(values: Sequence[str | None]) -> list[str]:
    if None not in values:
        return list(map(_quote, values))  # type: ignore[arg-type]
    return [_quote(v) if v is not None else "null" for v in values]


def _integers(values: Sequence[int | None]) -> list[str]:
    if None not in values:
        return list(map(int.__format__, values, repeat("d")))  # type: ignore[arg-type]
    return [f"{v:d}" if v is not None else "null" for v in values]


def _timestamps(values: Sequence[datetime]) -> list[str]:
    """Naive UTC, quoted with its Z by the layout; isoformat drops a zero fraction, so an
    event at a whole second is merely doubtful."""
    return list(map(datetime.isoformat, values))


def _later(name: str) -> Encoder:
    """A later field is written with its key, or not at all while null (``LATER_FIELDS``)."""
    key = f',"{name}":'
    return lambda values: [key + _quote(v) if v is not None else "" for v in values]


_ENCODERS_BY_FIELD: dict[str, Encoder] = {
    "seq": _integers, "actor_user_id": _integers, "actor_token_id": _integers,
    "occurred_at": _timestamps, "details": list,
}


def _build_layout() -> tuple[list[tuple[str, str, Encoder]], str]:
    """The text before each value, keys sorted as canonical_bytes sorts them, and the end."""
    layout: list[tuple[str, str, Encoder]] = []
    before = "{"
    for name in sorted(HASHED_FIELDS):
        if name in LATER_FIELDS:  # the key and its comma come with the value
            layout.append((before, name, _later(name)))
            before = ""
            continue
        comma, quote = "," if layout else "", '"' if name == "occurred_at" else ""
        layout.append((f'{before}{comma}"{name}":{quote}', name,
                       _ENCODERS_BY_FIELD.get(name, _strings)))
        before = 'Z"' if name == "occurred_at" else ""
    return layout, before + "}"


_quote = json.encoder.encode_basestring  # the C escaper json.dumps uses with ensure_ascii=False
_LAYOUT, _CLOSE = _build_layout()
