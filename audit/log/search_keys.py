"""Which dataset and which file an event is about, as plain columns an index can serve.

File and URL events name their file as the target and carry the dataset in ``details``;
searching JSON for it would scan the whole log. These keys are derived from hashed fields
only, and are themselves outside the hash, so a verifier can recompute them from an
export and nothing about the chain format changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_ID = 2**31 - 1  # the columns are 32-bit integers on PostgreSQL


def search_keys(
    target_type: str | None, target_id: str | None, details: Mapping[str, Any]
) -> tuple[int | None, int | None]:
    """(dataset_id, file_id) for an event with this target and these details."""
    file_id = _as_id(target_id) if target_type == "file" else None
    dataset_id = _as_id(target_id if target_type == "dataset" else details.get("dataset_id"))
    return dataset_id, file_id


def _as_id(value: object) -> int | None:
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
        return value
    return None
