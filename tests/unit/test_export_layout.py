"""The exporter's event lines: the same JSON record as any layout, hashes first."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from audit.integrity.export_format import event_line
from audit.log.chain import canonical_bytes, event_hashes


def stored_event(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "seq": 7, "occurred_at": datetime(2026, 11, 25, 9, 30, 1, 250000, tzinfo=UTC),
        "action": "url:issue", "outcome": "success", "actor_user_id": 3,
        "actor_issuer": "https://idp.example.edu", "actor_subject": "x\"y\\z\n",
        "actor_token_id": None, "actor_roles": "researcher", "ip": "192.0.2.1",
        "user_agent": "Zürich/1.0", "request_id": "r1", "target_type": "file",
        "target_id": "12", "details": {"dataset_id": 2, "seq": 99, "note": "ünïcode"},
    }
    chain, leaf = event_hashes("ab" * 32, fields)
    return {**fields, "prev_hash": "ab" * 32, "hash": chain, "leaf_hash": leaf, **changes}


def test_a_laid_out_line_is_the_flat_record_with_the_canonical_encoding_verbatim() -> None:
    event = stored_event()
    line = event_line(event)
    record = json.loads(line)
    assert record == {"type": "event", **event, "occurred_at": "2026-11-25T09:30:01.250000Z"}
    assert line.startswith('{"type":"event","prev_hash":"' + "ab" * 32 + '","hash":"')
    assert line.endswith(canonical_bytes(event).decode()[1:] + "\n")


def test_a_stored_hash_that_is_not_hex_still_makes_a_json_line_for_the_verifier() -> None:
    event = stored_event(hash='not-a-hash","x":"y')
    record = json.loads(event_line(event))
    assert record["hash"] == 'not-a-hash","x":"y' and "x" not in record
    assert record["seq"] == 7 and record["type"] == "event"
