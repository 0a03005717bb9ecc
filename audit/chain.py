"""Canonical encoding and hashing of audit events.

Standard library only, on purpose: the same rules must be reproducible by an auditor's
verifier that has nothing of this application installed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

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


def canonical_bytes(fields: Mapping[str, Any]) -> bytes:
    """Sorted keys, no insignificant white space, UTF-8: a stable encoding of one event."""
    record = {name: fields[name] for name in HASHED_FIELDS}
    if isinstance(record["occurred_at"], datetime):
        record["occurred_at"] = format_timestamp(record["occurred_at"])
    return json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def chain_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash (32 raw bytes) followed by the event's canonical bytes."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical_bytes(fields)).hexdigest()
