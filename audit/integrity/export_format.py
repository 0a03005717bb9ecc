"""The export's format: its name and version, and how an event's line is laid out.

Shared by the exporter (integrity/log_export.py) and the stand-alone verifier
(integrity/offline_verifier.py), which must read exactly what the other writes; like the
verifier, it needs nothing of the service.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from audit.log.chain import canonical_bytes, format_timestamp

FORMAT = "custodian-audit-log"
# Version 2 exports may hold LINKED events (audit/log/chain.py), which a version 1 verifier
# would call changed; this one reads both.
VERSION = 2
READABLE_VERSIONS = (1, 2)

# An event's line as the exporter writes it: the three hashes first, then the event's
# canonical encoding (audit/log/chain.py) verbatim, opening brace left off. Parsed as JSON it is
# the same flat record as any other layout; laid out like this, the verifier can hash the
# line's own bytes instead of parsing and re-encoding it, which was most of the cost of
# verifying (benchmarks/README.md). A line in any other layout takes the full check.
EVENT_HEAD = '{"type":"event","prev_hash":"%s","hash":"%s","leaf_hash":"%s",'
LINE_OPENING, *SEPARATORS = (part.encode() for part in EVENT_HEAD.split("%s"))
PREV_AT, HASH_AT, LEAF_AT = (slice(at, at + 64) for at in
                             (len(LINE_OPENING) + sum(map(len, SEPARATORS[:n])) + 64 * n
                              for n in range(3)))
SEPARATOR_AT = [slice(hash_at.stop, hash_at.stop + len(separator)) for hash_at, separator
                in zip((PREV_AT, HASH_AT, LEAF_AT), SEPARATORS, strict=True)]
BODY_AT = slice(SEPARATOR_AT[-1].stop, -1)  # up to the newline
HEX_HASH = re.compile("[0-9a-f]{64}")


def event_line(event: Mapping[str, Any]) -> str:
    """The export line of a stored event (its hashed fields and its three hashes)."""
    hashes = [event["prev_hash"], event["hash"], event["leaf_hash"]]
    if not are_hashes(hashes):
        # Not hashes: the stored row was tampered with. Still a JSON line, for the
        # verifier to read the ordinary way and report.
        record = {"type": "event", **event, "occurred_at": format_timestamp(event["occurred_at"])}
        return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
    return laid_out_line(hashes, canonical_bytes(event))


def are_hashes(values: Sequence[object]) -> bool:
    """Whether every value is a hash as the app stores it (64 lowercase hex digits), and so
    may stand in a laid-out line."""
    return all(isinstance(value, str) and HEX_HASH.fullmatch(value) for value in values)


def laid_out_line(hashes: Sequence[str], encoding: bytes) -> str:
    """The export line of an event: its hashes (prev, hash, leaf; lowercase hex), then its
    canonical ``encoding`` verbatim."""
    return EVENT_HEAD % tuple(hashes) + encoding.decode("utf-8")[1:] + "\n"
