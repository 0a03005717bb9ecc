"""Stand-alone verifier of an audit export: ``python -m audit.verify EXPORT --public-key PEM``.

It trusts nothing in the export but what it can check: the hash chain, the Merkle tree and
the checkpoint signatures, against public keys the auditor obtained separately. It runs
without the service: it needs only this file, audit/verify.py, log/chain.py,
integrity/merkle.py, integrity/signed_note.py, integrity/export_format.py and the
packages' ``__init__.py`` files, the standard library and ``cryptography``.

Exit status: 0 when everything verifies; 1 with the first bad record named (its line, and
what is wrong: changed, removed, inserted, reordered, truncated, bad signature, checkpoints
inconsistent, malformed); 2 when the command line or a key file is wrong.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from binascii import hexlify, unhexlify
from collections.abc import Sequence
from dataclasses import dataclass
from hashlib import sha256
from itertools import repeat
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import Any

from audit.integrity.export_format import (
    BODY_AT,
    FORMAT,
    HASH_AT,
    LEAF_AT,
    LINE_OPENING,
    PREV_AT,
    READABLE_VERSIONS,
    SEPARATOR_AT,
    SEPARATORS,
)
from audit.integrity.merkle import LEAF_PREFIX, Frontier, verify_consistency
from audit.integrity.signed_note import (
    Checkpoint,
    NoteError,
    Signature,
    UntrustedNote,
    load_public_key_pem,
    open_checkpoint,
)
from audit.log.chain import contradicted_hash

GENESIS_HASH = "0" * 64
# After details (the one nested value) every top-level value is a string, a number or null,
# and a string cannot hold an unescaped quote: the last `,"seq":` of an encoding is its seq.
_SEQ_KEY = b',"seq":'
_BRACE = b"{"
_LEAF_OPENING = LEAF_PREFIX + _BRACE
# Lines are read and checked some 256 KiB at a time: small enough to stay in the CPU's
# cache, large enough that each step runs in C over a few hundred lines (4 MiB was 20 %
# slower).
BATCH_BYTES = 1 << 18
# The batch check's steps, each mapped over a run of lines by C code, not Python.
_SEPARATORS_OF = [itemgetter(at) for at in SEPARATOR_AT]
_PREV_OF, _HASH_OF, _LEAF_OF, _BODY_OF = map(itemgetter, (PREV_AT, HASH_AT, LEAF_AT, BODY_AT))
_DIGEST = methodcaller("digest")
_CONCAT = bytes.__add__



@dataclass(frozen=True)
class Finding:
    kind: str
    line: int
    message: str


class Failed(Exception):
    def __init__(self, kind: str, line: int, message: str) -> None:
        super().__init__(message)
        self.finding = Finding(kind, line, message)


@dataclass(frozen=True)
class Report:
    events: int
    checkpoints: int
    newest: tuple[Checkpoint, Signature] | None = None
    finding: Finding | None = None

    @property
    def ok(self) -> bool:
        return self.finding is None

    def describe(self) -> str:
        if self.finding is not None:
            return (f"FAILED: {self.finding.kind} at line {self.finding.line}: "
                    f"{self.finding.message}")
        assert self.newest is not None
        checkpoint, signature = self.newest
        return (f"OK: {self.events} events and {self.checkpoints} checkpoints verified.\n"
                f"Newest checkpoint: {checkpoint.origin}, tree size {checkpoint.tree_size}, "
                f"root {base64.b64encode(checkpoint.root_hash).decode()}, signed by "
                f"{signature.key_name} {signature.key_id.hex()}.\n"
                "Compare it with a checkpoint you obtained from the service earlier or later "
                "(GET /api/v1/audit/checkpoints): same size, same root; later, consistent.")


@dataclass
class _Seen:
    """The last checkpoint that verified, to prove the next one extends it."""

    checkpoint: Checkpoint
    line: int


class _Verifier:
    def __init__(self, path: Path, trusted: Sequence[bytes]) -> None:
        self.path = path
        self.trusted = list(trusted)
        self.frontier = Frontier()
        self.hashes = [GENESIS_HASH, GENESIS_HASH]  # the last two events' hashes
        self.event_lines = [0, 0]
        self.announced = 0
        self.checkpoints = 0
        self.previous: _Seen | None = None
        self.newest: tuple[Checkpoint, Signature] | None = None

    @property
    def events(self) -> int:
        return self.frontier.size

    def run(self) -> Report:
        number = 0
        try:
            with self.path.open("rb") as export:
                while batch := export.readlines(BATCH_BYTES):
                    self.lines(number + 1, batch)
                    number += len(batch)
            if number == 0:
                raise Failed("malformed", 0, "the export is empty")
            self.finish(number)
        except Failed as failed:
            return Report(self.events, self.checkpoints, finding=failed.finding)
        return Report(self.events, self.checkpoints, self.newest)

    def record(self, line: int, record: dict[str, Any]) -> None:
        kind = record.get("type")
        if line == 1:
            if kind != "header" or record.get("format") != FORMAT:
                raise Failed("malformed", line, f"not a {FORMAT} export (no header line)")
            if record.get("version") not in READABLE_VERSIONS:
                raise Failed("malformed", line, f"export version {record.get('version')!r}; "
                             f"this verifier reads versions {READABLE_VERSIONS}")
            self.announced = _count(line, record, "tree_size")
        elif kind == "event":
            self.event(line, record)
        elif kind == "checkpoint":
            self.checkpoint(line, record)
        elif kind != "public_key":
            raise Failed("malformed", line, f"unknown record type {kind!r}")

    def event(self, line: int, record: dict[str, Any]) -> None:
        seq, expected = _count(line, record, "seq"), self.events + 1
        if seq != expected:
            self.out_of_order(line, seq, expected)
        prev_hash, stated = record.get("prev_hash"), record.get("hash")
        try:
            wrong = contradicted_hash(str(prev_hash), record, stated, record.get("leaf_hash"))
        except (KeyError, ValueError, TypeError) as exc:
            raise Failed("malformed", line, f"event {seq} cannot be encoded: {exc!r}") from None
        if prev_hash != self.hashes[-1]:
            self.broken_link(line, seq, prev_hash, wrong != "hash")
        if wrong == "hash":
            raise Failed("changed", line, f"event {seq}'s content does not match its hash")
        if wrong == "leaf_hash":
            raise Failed("changed", line, f"event {seq}'s leaf hash does not match its content")
        self.frontier.append(bytes.fromhex(record["leaf_hash"]))
        self.hashes = [self.hashes[-1], str(stated)]
        self.event_lines = [self.event_lines[-1], line]

    def lines(self, first: int, batch: list[bytes]) -> None:
        """Runs of event lines that look laid out by the exporter are checked together; the
        rest, and any run in doubt, line by line. ``first`` is the batch's first line number."""
        looks_laid_out = [line.startswith(LINE_OPENING) for line in batch]
        others = [index for index, laid_out in enumerate(looks_laid_out) if not laid_out]
        start = 0
        for index in [*others, len(batch)]:
            self.events_together(first + start, batch[start:index])
            if index < len(batch):
                self.record(first + index, _parse(first + index, batch[index]))
            start = index + 1

    def events_together(self, first: int, lines: list[bytes]) -> None:
        """A batch check of laid-out event lines that can only confirm. It compares the
        lowercase hex ``event`` compares, a whole run at a time; when anything is off (the
        layout, a link, a seq, a hash) the run is judged line by line, which alone reports."""
        if not lines:
            return
        if not self.confirmed(lines, self.events + 1):
            for number, line in enumerate(lines, start=first):
                self.record(number, _parse(number, line))
            return
        self.hashes = [self.hashes[-1], *(line[HASH_AT].decode() for line in lines[-2:])][-2:]
        last = first + len(lines) - 1
        self.event_lines = [self.event_lines[-1], last - 1, last][-2:] if len(lines) > 1 \
            else [self.event_lines[-1], last]

    def confirmed(self, lines: list[bytes], first_seq: int) -> bool:
        count = len(lines)
        if any(list(map(separator_of, lines)).count(separator) != count
               for separator_of, separator in zip(_SEPARATORS_OF, SEPARATORS, strict=True)):
            return False
        stated = b"".join(map(_HASH_OF, lines))
        predecessors = self.hashes[-1].encode() + stated[:-64]
        if b"".join(map(_PREV_OF, lines)) != predecessors:
            return False
        # Each event's canonical encoding is "{" and the rest of its line, newline left off.
        rests = list(map(_BODY_OF, lines))
        seqs = map(b',"seq":%d,'.__mod__, range(first_seq, first_seq + count))
        if not all(map(bytes.startswith, rests, seqs, map(bytes.rfind, rests, repeat(_SEQ_KEY)))):
            return False
        try:
            links = unhexlify(predecessors)
        except ValueError:
            return False
        link_at = range(0, 32 * count, 32)
        if stated == b"".join(map(_LEAF_OF, lines)):  # LINKED: one hash, chain and leaf
            openings = [LEAF_PREFIX + links[at:at + 32] + _BRACE for at in link_at]
            leaves = list(map(_DIGEST, map(sha256, map(_CONCAT, openings, rests))))
            if hexlify(b"".join(leaves)) != stated:
                return False
        else:  # SEPARATE (or a mix, which fails here and is judged line by line)
            openings = [links[at:at + 32] + _BRACE for at in link_at]
            chained = map(_DIGEST, map(sha256, map(_CONCAT, openings, rests)))
            if hexlify(b"".join(chained)) != stated:
                return False
            leaves = list(map(_DIGEST, map(sha256, map(_CONCAT, repeat(_LEAF_OPENING), rests))))
            if hexlify(b"".join(leaves)) != b"".join(map(_LEAF_OF, lines)):
                return False
        self.frontier.extend(leaves)
        return True

    def out_of_order(self, line: int, seq: int, expected: int) -> None:
        if seq < expected:
            raise Failed("inserted", line, f"a second event {seq} (the export is at event "
                         f"{expected - 1}; event {seq} came earlier)")
        later = _find_event(self.path, expected, after=line)
        if later is not None:
            raise Failed("reordered", line, f"event {seq} comes before event {expected}, "
                         f"which is at line {later}")
        raise Failed("removed", line, f"event {expected} is missing: the export goes from "
                     f"event {expected - 1} to event {seq}")

    def broken_link(self, line: int, seq: int, prev_hash: object, self_consistent: bool) -> None:
        if prev_hash == self.hashes[0]:
            raise Failed("inserted", self.event_lines[-1], f"event {seq - 1} is not part of "
                         f"the chain: event {seq} (line {line}) links to the event before it")
        if self_consistent:
            raise Failed("changed", self.event_lines[-1], f"event {seq - 1} was changed and "
                         f"re-hashed: event {seq} (line {line}) links to its original hash")
        raise Failed("changed", line, f"event {seq}'s link to the event before it was changed")

    def checkpoint(self, line: int, record: dict[str, Any]) -> None:
        try:
            checkpoint, signature = open_checkpoint(str(record.get("note")), self.trusted)
        except UntrustedNote as exc:
            raise Failed("bad signature", line, f"checkpoint: {exc}") from None
        except NoteError as exc:
            raise Failed("malformed", line, f"checkpoint: {exc}") from None
        size = checkpoint.tree_size
        if record.get("tree_size") != size:
            raise Failed("changed", line, f"the checkpoint line says tree size "
                         f"{record.get('tree_size')!r}, its signed note says {size}")
        if size > self.events:
            raise Failed("truncated", line, f"the checkpoint of tree size {size} follows "
                         f"event {self.events}: events {self.events + 1} to {size} are missing")
        if size < self.events:
            raise Failed("inserted", line, f"the checkpoint of tree size {size} follows "
                         f"event {self.events}: events were inserted before it")
        self.consistent(line, record, checkpoint)
        if self.frontier.root() != checkpoint.root_hash:
            since = f"event {self.previous.checkpoint.tree_size + 1}" if self.previous else \
                "the first event"
            raise Failed("changed", line, f"events 1 to {size} do not have the root the "
                         f"checkpoint signed: events from {since} on were changed, inserted "
                         "or removed, and the chain re-hashed")
        self.previous = _Seen(checkpoint, line)
        self.newest = (checkpoint, signature)
        self.checkpoints += 1

    def consistent(self, line: int, record: dict[str, Any], checkpoint: Checkpoint) -> None:
        """The signed trees themselves must extend one another, whatever the events say."""
        if self.previous is None:
            return
        old = self.previous.checkpoint
        consistency = record.get("consistency")
        proof = consistency.get("proof") if isinstance(consistency, dict) else None
        try:
            path = [bytes.fromhex(digest) for digest in proof or ()]
        except (TypeError, ValueError):
            raise Failed("malformed", line, "the consistency proof is not hex") from None
        if not isinstance(consistency, dict) or consistency.get("from") != old.tree_size \
                or not verify_consistency(old.tree_size, checkpoint.tree_size, old.root_hash,
                                          checkpoint.root_hash, path):
            raise Failed("checkpoints inconsistent", line, f"the checkpoint of tree size "
                         f"{checkpoint.tree_size} does not extend the one of tree size "
                         f"{old.tree_size} (line {self.previous.line})")

    def finish(self, line: int) -> None:
        if self.events < self.announced:
            raise Failed("truncated", line, f"the export ends after event {self.events}; its "
                         f"header announces {self.announced} events")
        if self.events > self.announced:
            raise Failed("inserted", line, f"the export holds {self.events} events; its header "
                         f"announces {self.announced}")
        if self.newest is None or self.newest[0].tree_size != self.events:
            covered = self.newest[0].tree_size if self.newest else 0
            raise Failed("truncated", line, f"no checkpoint signs the last events "
                         f"({covered + 1} to {self.events}): the export's final checkpoint "
                         "was removed")


def verify_export(path: Path, trusted: Sequence[bytes]) -> Report:
    return _Verifier(path, trusted).run()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m audit.verify",
        description="Verify an audit log export offline: hash chain, Merkle tree, signatures.")
    parser.add_argument("export", type=Path, help="the JSON Lines file `flask audit export` wrote")
    parser.add_argument("--public-key", action="append", required=True, type=Path,
                        metavar="PEM", help="a trusted Ed25519 public key (PEM); repeat it "
                        "for keys rotated out")
    args = parser.parse_args(argv)
    trusted = []
    for key_file in args.public_key:
        try:
            trusted.append(load_public_key_pem(key_file.read_bytes()))
        except (OSError, ValueError) as exc:
            parser.error(f"{key_file}: not a readable Ed25519 public key in PEM ({exc})")
    try:
        report = verify_export(args.export, trusted)
    except OSError as exc:
        parser.error(f"{args.export}: {exc.strerror}")
    print(report.describe())
    return 0 if report.ok else 1


def _parse(line: int, text: bytes) -> dict[str, Any]:
    try:
        record = json.loads(text)  # UTF-8 bytes, as JSON Lines are
    except ValueError:
        raise Failed("malformed", line, "not a JSON line") from None
    if not isinstance(record, dict):
        raise Failed("malformed", line, "not a JSON object")
    return record


def _count(line: int, record: dict[str, Any], name: str) -> int:
    value = record.get(name)
    if type(value) is not int or value < 0:
        raise Failed("malformed", line, f"{name} must be a whole number, got {value!r}")
    return value


def _find_event(path: Path, seq: int, *, after: int) -> int | None:
    """The line of event ``seq`` after line ``after``: tells a move from a removal."""
    with path.open(encoding="utf-8") as lines:
        for number, text in enumerate(lines, start=1):
            if number <= after:
                continue
            try:
                record = json.loads(text)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("type") == "event" \
                    and record.get("seq") == seq:
                return number
    return None


if __name__ == "__main__":
    sys.exit(main())
