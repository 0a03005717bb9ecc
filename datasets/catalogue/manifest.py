"""Reading a file manifest: a TSV with a header, one stored object per line.

Every line is checked on its own here, without the database or storage, and every problem
is collected rather than the first raised, so an operator fixes a manifest in one pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeVar

from datasets.catalogue.models import FileKind, Tier
from datasets.catalogue.registration import FileRecord

REQUIRED_COLUMNS = ("location", "kind", "tier", "dataset", "size", "sha256", "md5")
# An indexed VCF or BAM names its index (.tbi, .csi, .bai), another stored object, and the
# index's SHA-256; its size and MD5 are read from the store.
OPTIONAL_COLUMNS = ("name", "description", "index_location", "index_sha256")
MAX_KEY_LENGTH = 1024  # DataFile.storage_key
MAX_NAME_LENGTH = 255  # DataFile.name
HEX_LENGTHS = {"sha256": 64, "md5": 32}
E = TypeVar("E", FileKind, Tier)


@dataclass(frozen=True, order=True)
class ManifestProblem:
    line: int
    message: str


@dataclass(frozen=True)
class ManifestRow:
    line: int
    dataset: str
    record: FileRecord
    index_key: str | None = None
    index_sha256: str | None = None


def parse_manifest(text: str) -> tuple[list[ManifestRow], list[ManifestProblem]]:
    # Split on newlines only, so line numbers match the operator's editor.
    lines = [line.removesuffix("\r") for line in text.removeprefix("\ufeff").split("\n")]
    if not lines or not lines[0].strip():
        return [], [ManifestProblem(1, "the manifest is empty: the first line must be a header")]
    columns = [name.strip().lower() for name in lines[0].split("\t")]
    problems = _header_problems(columns)
    if problems:
        return [], problems
    rows: list[ManifestRow] = []
    first_line_of: dict[str, int] = {}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        values = [value.strip() for value in line.split("\t")]
        if len(values) != len(columns):
            problems.append(
                ManifestProblem(
                    number, f"expected {len(columns)} tab-separated fields, found {len(values)}"
                )
            )
            continue
        row, row_problems = _parse_row(number, dict(zip(columns, values, strict=True)))
        problems.extend(row_problems)
        if row is None:
            continue
        keys = [key for key in (row.record.key, row.index_key) if key]
        repeated = [key for key in keys if key in first_line_of]
        if repeated:
            problems.append(
                ManifestProblem(
                    number,
                    f"location {repeated[0]!r} is already listed on line "
                    f"{first_line_of[repeated[0]]}",
                )
            )
            continue
        first_line_of.update(dict.fromkeys(keys, number))
        rows.append(row)
    if not rows and not problems:
        problems.append(ManifestProblem(1, "the manifest lists no files"))
    return rows, problems


def _header_problems(columns: list[str]) -> list[ManifestProblem]:
    messages = []
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        messages.append(f"header lacks the column(s) {', '.join(missing)}")
    unknown = [name for name in columns if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        messages.append(f"header has unknown column(s) {', '.join(repr(n) for n in unknown)}")
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        messages.append(f"header repeats the column(s) {', '.join(repeated)}")
    return [ManifestProblem(1, message) for message in messages]


def _parse_row(
    number: int, fields: dict[str, str]
) -> tuple[ManifestRow | None, list[ManifestProblem]]:
    location = fields["location"]
    messages = location_problems(location)
    kind = _member(FileKind, "kind", fields["kind"], messages)
    tier = _member(Tier, "tier", fields["tier"], messages)
    if not fields["dataset"]:
        messages.append("dataset (the consent group's accession) is empty")
    size = fields["size"]
    if not (size.isascii() and size.isdigit()):
        messages.append(f"size must be a whole number of bytes, got {size!r}")
    sums = {column: fields[column].lower() for column in HEX_LENGTHS}
    for column, length in HEX_LENGTHS.items():
        if not re.fullmatch(f"[0-9a-f]{{{length}}}", sums[column]):
            messages.append(f"{column} must be {length} hexadecimal digits, got {fields[column]!r}")
    index_key, index_sha256 = fields.get("index_location", ""), fields.get("index_sha256", "")
    index_sha256 = index_sha256.lower()
    if bool(index_key) != bool(index_sha256):
        messages.append("index_location and index_sha256 go together: give both or neither")
    elif index_key:
        messages += [f"index_{message}" for message in location_problems(index_key)]
        if index_key == location:
            messages.append("index_location is the data file's own location")
        if not re.fullmatch("[0-9a-f]{64}", index_sha256):
            messages.append(
                f"index_sha256 must be 64 hexadecimal digits, got {fields['index_sha256']!r}"
            )
    name = fields.get("name") or location.rsplit("/", 1)[-1]
    if len(name) > MAX_NAME_LENGTH:
        messages.append(f"name is longer than {MAX_NAME_LENGTH} characters")
    if messages or kind is None or tier is None:
        return None, [ManifestProblem(number, message) for message in messages]
    record = FileRecord(
        key=location,
        name=name,
        kind=kind,
        tier=tier,
        description=fields.get("description", ""),
        size=int(size),
        md5=sums["md5"],
        sha256=sums["sha256"],
    )
    return ManifestRow(
        number, fields["dataset"], record, index_key or None, index_sha256 or None
    ), []


def location_problems(location: str) -> list[str]:
    """Keys must mean the same object on every backend: no absolute paths, no dot segments."""
    if not location:
        return ["location (the storage key) is empty"]
    if len(location) > MAX_KEY_LENGTH:
        return [f"location is longer than {MAX_KEY_LENGTH} characters"]
    if not location.isprintable():
        return [f"location {location!r} contains control characters"]
    if any(part in ("", ".", "..") for part in location.split("/")):
        return [f"location {location!r} must be a relative key without empty, '.' or '..' parts"]
    return []


def _member(enum: type[E], column: str, value: str, messages: list[str]) -> E | None:
    try:
        return enum(value.lower())
    except ValueError:
        messages.append(f"{column} {value!r} is not one of {', '.join(enum)}")
        return None
