"""The batch check of stored events agrees with the reference encoding, and only ever doubts.

``doubtful_rows`` may flag a sound row (the reference check then clears it) but must never
pass a row whose stored values no longer hash to what was written.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from audit.log.chain import (
    HASHED_FIELDS,
    LINKED,
    SEPARATE,
    STORED_FIELDS,
    doubtful_rows,
    event_hashes,
)
from audit.log.models import GENESIS_HASH

START = datetime(2025, 11, 25, 13, 2, 3, 123456)
AWKWARD = ['quote " and backslash \\', "tab\tnewline\ncontrol\x01\x1f", "é ü 漢字 🧬",
           "\u2028 line separator", "", "null"]


def field_sets() -> list[dict[str, Any]]:
    """Events with every nullable field both null and set, and strings that need escaping."""
    events = []
    for i in range(24):
        text = AWKWARD[i % len(AWKWARD)]
        events.append({
            "seq": i + 1, "occurred_at": START + timedelta(seconds=i, microseconds=7 * i),
            "action": "url:issue", "outcome": "success",
            "actor_user_id": None if i % 3 == 0 else 2**40 + i,
            "actor_issuer": None if i % 4 == 0 else f"https://idp.example.org/{text}",
            "actor_subject": text, "actor_token_id": None if i % 2 else i,
            "actor_roles": [None, "", "auditor,researcher"][i % 3],
            "ip": None if i % 5 == 0 else "2001:db8::1", "user_agent": text or None,
            "request_id": f"{i:032x}", "target_type": "file", "target_id": str(i),
            "details": {"z": [1, 2.5, None, True], "a": {"é": text, "b": -i}, "n": 10**20},
        })
    return events


def stored(events: list[dict[str, Any]], *, json_text: Any = None,
           separate_until: int = 0) -> list[tuple[Any, ...]]:
    """Rows as verify_chain reads them: hashes as written, details as canonical JSON text;
    the first ``separate_until`` in the chain format of events recorded before LINKED."""
    dump = json_text or (lambda value: json.dumps(value, sort_keys=True, separators=(",", ":"),
                                                  ensure_ascii=False))
    rows, prev = [], GENESIS_HASH
    for fields in events:
        fmt = SEPARATE if fields["seq"] <= separate_until else LINKED
        chain, leaf = event_hashes(prev, fields, fmt)
        values = {**fields, "details": dump(fields["details"]), "prev_hash": prev,
                  "hash": chain, "leaf_hash": leaf}
        rows.append(tuple(values[name] for name in STORED_FIELDS))
        prev = chain
    return rows


def edited(row: tuple[Any, ...], **changes: Any) -> tuple[Any, ...]:
    return tuple(changes.get(name, value) for name, value in zip(STORED_FIELDS, row, strict=True))


def test_an_intact_batch_is_verified_whole() -> None:
    assert doubtful_rows(stored(field_sets()), 1, GENESIS_HASH) == []


def test_a_batch_where_the_chain_format_changes_is_verified_whole() -> None:
    rows = stored(field_sets(), separate_until=10)
    assert rows[9][-2] != rows[9][-1] and rows[10][-2] == rows[10][-1]
    assert doubtful_rows(rows, 1, GENESIS_HASH) == []
    # A LINKED event's leaf hash changed reads as SEPARATE, and fits neither.
    changed = edited(rows[15], leaf_hash=event_hashes(rows[14][-2], field_sets()[15],
                                                      SEPARATE)[1])
    assert doubtful_rows([*rows[:15], changed, *rows[16:]], 1, GENESIS_HASH) == [15]


def test_a_whole_second_or_non_canonical_json_is_only_doubted() -> None:
    events = field_sets()
    events[3]["occurred_at"] = START.replace(microsecond=0)
    rows = stored(events)
    rows[7] = edited(rows[7], details=json.dumps(events[7]["details"]))
    assert doubtful_rows(rows, 1, GENESIS_HASH) == [3, 7]


def test_every_changed_field_is_doubted() -> None:
    rows = stored(field_sets())
    for name in HASHED_FIELDS:
        row = rows[5]
        value = row[STORED_FIELDS.index(name)]
        if name == "details":
            changed: Any = value.replace("10000", "10001")
        elif name == "occurred_at":
            changed = value + timedelta(microseconds=1)
        elif name in ("seq", "actor_user_id", "actor_token_id"):
            changed = (value or 0) + 1
        else:
            changed = "x" if value is None else None
        batch = [*rows[:5], edited(row, **{name: changed}), *rows[6:]]
        assert doubtful_rows(batch, 1, GENESIS_HASH) == [5], name


def test_gaps_forks_and_bad_hashes_are_doubted_where_they_start() -> None:
    rows = stored(field_sets())
    assert doubtful_rows(rows[:4] + rows[5:], 1, GENESIS_HASH)[0] == 4
    assert doubtful_rows([rows[1], rows[0], *rows[2:]], 1, GENESIS_HASH)[0] == 0
    assert doubtful_rows(rows, 1, "ab" * 32) == [0]
    assert doubtful_rows([*rows[:9], edited(rows[9], leaf_hash="00" * 32)], 1,
                         GENESIS_HASH) == [9]


def test_values_of_the_wrong_type_are_doubted_and_never_raise() -> None:
    rows = stored(field_sets())
    for change in ({"prev_hash": "not hex"}, {"actor_subject": 42}, {"seq": "6"},
                   {"actor_user_id": 2.0**40 + 5}, {"occurred_at": "2025-11-25 13:02:03.123456"},
                   {"ip": ["2001:db8::1"]}):
        batch = [*rows[:5], edited(rows[5], **change), *rows[6:]]
        assert 5 in doubtful_rows(batch, 1, GENESIS_HASH), change
