"""Batches whose columns hold no nulls, and export lines built a batch at a time: the same
bytes as the reference encoding, and never a pass for an altered event.

Columns without nulls take the C-mapped path of the batch encoders, and all-LINKED batches
are hashed without a Python frame per event (benchmarks/README.md, issue 15 point 7); the
fixtures of test_audit_batch_check.py hold nulls in most columns, these in none.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from audit.integrity.chain_check import stored_fields
from audit.integrity.export_format import event_line
from audit.integrity.log_export import confirmed_batch_lines
from audit.log.chain import (
    STORED_FIELDS,
    bet_encodings,
    canonical_bytes,
    doubtful_rows,
    encoding_hashes,
    linked_hashes,
    stored_columns,
)
from audit.log.models import GENESIS_HASH
from tests.unit.test_audit_batch_check import AWKWARD, START, edited, stored


def full_field_sets() -> list[dict[str, Any]]:
    """Every nullable field set, strings that need escaping among them."""
    return [{
        "seq": i + 1, "occurred_at": START + timedelta(seconds=i, microseconds=11 * i + 1),
        "action": "url:issue", "outcome": "success", "actor_user_id": 2**33 + i,
        "actor_issuer": f"https://idp.example.org/{AWKWARD[i % len(AWKWARD)]}",
        "actor_subject": AWKWARD[(i + 1) % len(AWKWARD)], "actor_token_id": i,
        "actor_roles": "auditor,researcher", "ip": "192.0.2.7", "user_agent": "curl/8.5.0",
        "request_id": f"{i:032x}", "target_type": "file", "target_id": str(i),
        "details": {"dataset_id": i, "note": AWKWARD[i % len(AWKWARD)]},
    } for i in range(18)]


class Row(tuple[Any, ...]):
    """A stored row with the attribute access of the database's rows."""

    def __getattr__(self, name: str) -> Any:
        return self[STORED_FIELDS.index(name)]

    @property
    def _mapping(self) -> dict[str, Any]:
        return dict(zip(STORED_FIELDS, self, strict=True))


def test_columns_without_nulls_encode_as_the_reference() -> None:
    rows = stored(full_field_sets())
    encodings = bet_encodings(stored_columns(rows))
    assert encodings is not None
    expected = [canonical_bytes({**dict(zip(STORED_FIELDS, row, strict=True)),
                                 "details": json.loads(row[STORED_FIELDS.index("details")])})
                for row in rows]
    assert encodings == expected
    assert doubtful_rows(rows, 1, GENESIS_HASH) == []


def test_linked_hashes_of_a_batch_are_each_events_own() -> None:
    rows = stored(full_field_sets())
    columns = stored_columns(rows)
    encodings = bet_encodings(columns)
    assert encodings is not None
    assert linked_hashes(columns["prev_hash"], encodings) == [
        encoding_hashes(prev, encoding)[0]
        for prev, encoding in zip(columns["prev_hash"], encodings, strict=True)]


def test_an_altered_event_in_a_batch_without_nulls_is_doubted() -> None:
    rows = stored(full_field_sets())
    for change in ({"action": "url:issuE"}, {"actor_token_id": 4}, {"target_type": "user"},
                   {"details": rows[5][STORED_FIELDS.index("details")].replace("5", "6")}):
        batch = [*rows[:5], edited(rows[5], **change), *rows[6:]]
        assert doubtful_rows(batch, 1, GENESIS_HASH) == [5], change


def test_a_batchs_export_lines_are_those_of_its_events_one_by_one() -> None:
    rows = [Row(row) for row in stored(full_field_sets())]
    columns = stored_columns(rows)
    encodings = bet_encodings(columns)
    assert encodings is not None
    assert confirmed_batch_lines(columns, encodings) == [
        event_line(stored_fields(row)).encode() for row in rows]  # type: ignore[arg-type]


def test_a_batch_with_an_altered_event_is_not_laid_out_at_once() -> None:
    rows = stored(full_field_sets())
    for change in ({"ip": "192.0.2.8"}, {"prev_hash": "AB" * 32}, {"leaf_hash": "00" * 32}):
        batch = [*rows[:3], edited(rows[3], **change), *rows[4:]]
        columns = stored_columns(batch)
        encodings = bet_encodings(columns)
        assert encodings is not None
        assert confirmed_batch_lines(columns, encodings) is None, change
