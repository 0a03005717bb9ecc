"""Registering objects already in storage from a manifest: all of it or none of it.

Everything is checked before anything is written: each line's values, that its dataset
exists, that its location is not catalogued yet, and that the stored object has the size and
checksums the manifest claims. A HEAD-style size check comes first, so a wrong object costs no
download; checksums are then verified by reading the object through, on every backend. On S3
the ETag is the MD5 only for single-part uploads without KMS encryption, and S3 keeps no
SHA-256 unless the uploader asked for one, so neither can stand in for the bytes themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from datasets.catalogue.checksums import digest
from datasets.catalogue.indexes import IndexRecord, IndexRejected, check_index
from datasets.catalogue.manifest import ManifestProblem, ManifestRow, parse_manifest
from datasets.catalogue.models import DataFile, Dataset
from datasets.catalogue.registration import FileRecord, catalogue_file
from datasets.errors import ManifestRejected
from datasets.storage import ObjectNotFound, Storage

LOOKUP_BATCH = 500  # keys per IN (...) query: large manifests stay within bind-parameter limits


def import_manifest(
    session: Session, actor: Actor, text: str, *, storage: Storage, now: datetime
) -> list[DataFile]:
    """Raises ManifestRejected naming every bad line; StorageUnavailable if it cannot check."""
    rows, problems = parse_manifest(text)
    datasets = {
        dataset.accession: dataset
        for dataset in session.scalars(
            select(Dataset).where(Dataset.accession.in_({row.dataset for row in rows}))
        )
    }
    catalogued = catalogued_keys(
        session, [key for row in rows for key in (row.record.key, row.index_key) if key]
    )
    indexes: dict[int, IndexRecord] = {}
    for row in rows:
        messages = _row_problems(row, datasets, catalogued, storage)
        if not messages and row.index_key is not None:
            try:
                indexes[row.line] = check_index(
                    storage,
                    data_key=row.record.key,
                    data_size=row.record.size,
                    index_key=row.index_key,
                    expected_sha256=row.index_sha256,
                )
            except IndexRejected as exc:
                messages.append(exc.message)
        problems.extend(ManifestProblem(row.line, message) for message in messages)
    if problems:
        raise ManifestRejected(problems)
    return [
        catalogue_file(
            session,
            actor,
            datasets[row.dataset],
            replace(row.record, index=indexes.get(row.line)),
            now=now,
        )
        for row in rows
    ]


def _row_problems(
    row: ManifestRow, datasets: Mapping[str, Dataset], catalogued: set[str], storage: Storage
) -> list[str]:
    messages = []
    if row.dataset not in datasets:
        messages.append(f"no dataset has the accession {row.dataset!r}")
    if row.record.key in catalogued:
        messages.append(f"location {row.record.key!r} is already registered")
    if row.index_key is not None and row.index_key in catalogued:
        messages.append(f"index_location {row.index_key!r} is already registered")
    # Reading a large object is the expensive check: only for lines that are otherwise fine.
    return messages or [message for _, message in object_problems(row.record, storage)]


def object_problems(
    record: FileRecord, storage: Storage, *, stated_in: str = "the manifest"
) -> list[tuple[str, str]]:
    """How the stored object differs from what the caller stated, as (field, message): the
    size first (cheap), then both checksums from one read through. The registering API
    checks a single object with this too."""
    try:
        size = storage.size_of(record.key)
        if size != record.size:
            return [("size", f"size is {record.size} in {stated_in} but {size} in storage")]
        stored = digest(storage.read_chunks(record.key))
    except ObjectNotFound:
        return [("location", f"no object is stored at {record.key!r}")]
    return [
        (name, f"{name} is {claimed} in {stated_in} but {actual} in storage")
        for name, claimed, actual in (
            ("sha256", record.sha256, stored.sha256),
            ("md5", record.md5, stored.md5),
        )
        if claimed != actual
    ]


def catalogued_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """Those of the keys that a file or an index already uses."""
    pending = list(keys)
    found: set[str] = set()
    for start in range(0, len(pending), LOOKUP_BATCH):
        batch = pending[start : start + LOOKUP_BATCH]
        found.update(
            session.scalars(select(DataFile.storage_key).where(DataFile.storage_key.in_(batch)))
        )
        found.update(
            key
            for key in session.scalars(
                select(DataFile.index_key).where(DataFile.index_key.in_(batch))
            )
            if key
        )
    return found
