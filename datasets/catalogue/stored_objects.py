"""Registering objects already in storage through the API, as the manifest import does:
one object by its key, what the caller states (size, SHA-256, MD5) checked against the
store, its index checked to belong to it; or every object under a key prefix, read from the
store, after a dry run that lists what would happen. Any problem registers nothing."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy.orm import Session

from access.identity.actor import Actor
from access.roles import require_admin
from core.errors import InvalidInput
from datasets.catalogue.checksums import digest
from datasets.catalogue.indexes import SUFFIXES, IndexRecord, IndexRejected, check_index
from datasets.catalogue.manifest import location_problems
from datasets.catalogue.manifest_import import catalogued_keys, object_problems
from datasets.catalogue.models import DataFile, Dataset, FileKind, Tier
from datasets.catalogue.queries import get_dataset
from datasets.catalogue.registration import FileRecord, catalogue_file
from datasets.errors import StorageDown
from datasets.storage import Storage, StorageUnavailable

MAX_PREFIX_OBJECTS = 1000  # one request reads them all: larger folders go in parts
# Kinds a key's ending tells; anything else takes the kind the caller names.
KIND_BY_SUFFIX = {
    ".vcf.gz": FileKind.GENOTYPE,
    ".bcf": FileKind.GENOTYPE,
    ".vcf": FileKind.GENOTYPE,
    ".bam": FileKind.ALIGNMENT,
    ".cram": FileKind.ALIGNMENT,
}
# The manifest's column names, as this API's fields are called.
_FIELDS = {"location": "key"}


def tier_of(dataset: Dataset) -> Tier:
    return Tier.OPEN if dataset.committee_id is None else Tier.CONTROLLED


def file_record(data: Mapping[str, Any], dataset: Dataset) -> FileRecord:
    """What a loaded FileIn states, with the defaults it leaves to the dataset and the key."""
    return FileRecord(
        key=data["key"],
        name=data.get("name") or data["key"].rsplit("/", 1)[-1],
        kind=FileKind(data["kind"]),
        tier=Tier(data["tier"]) if "tier" in data else tier_of(dataset),
        description=data["description"],
        size=data["size"],
        md5=data["md5"],
        sha256=data["sha256"],
    )


def register_stored_file(
    session: Session,
    actor: Actor,
    dataset_id: int,
    record: FileRecord,
    *,
    index_key: str | None,
    index_sha256: str | None,
    storage: Storage,
    now: datetime,
) -> DataFile:
    require_admin(actor, "file_register")
    dataset = get_dataset(session, dataset_id)
    problems: dict[str, list[str]] = {}
    if record.tier != tier_of(dataset):
        problems["tier"] = [f"Files of this {tier_of(dataset)} dataset are {tier_of(dataset)}."]
    taken = catalogued_keys(session, [key for key in (record.key, index_key) if key])
    for field, key in (("key", record.key), ("index_key", index_key)):
        if key in taken:
            problems[field] = [f"{key!r} is already registered."]
    if index_key == record.key:
        problems["index_key"] = ["The index is the data file's own key."]
    index = None
    with store_answers():
        if not problems:
            for field, message in object_problems(record, storage, stated_in="the request"):
                problems.setdefault(_FIELDS.get(field, field), []).append(message)
        if not problems and index_key is not None:
            try:
                index = check_index(
                    storage, data_key=record.key, data_size=record.size, index_key=index_key
                )
            except IndexRejected as exc:
                problems["index_key"] = [exc.message]
    if index is not None and index_sha256 is not None and index.sha256 != index_sha256:
        problems["index_sha256"] = [
            f"index sha256 is {index_sha256} in the request but {index.sha256} in storage"
        ]
    if problems:
        raise InvalidInput("Nothing was registered.", details=problems)
    return catalogue_file(session, actor, dataset, replace(record, index=index), now=now)


@dataclass(frozen=True)
class PlannedFile:
    record: FileRecord
    index: IndexRecord | None


@dataclass(frozen=True)
class PrefixPlan:
    """What registering a prefix does (or, in a dry run, would do)."""

    files: list[PlannedFile]
    skipped: list[dict[str, str]]  # keys already registered, and indexes of no file here
    registered: list[DataFile]


def register_prefix(
    session: Session,
    actor: Actor,
    dataset_id: int,
    *,
    prefix: str,
    kind: FileKind | None,
    description: str,
    dry_run: bool,
    storage: Storage,
    now: datetime,
) -> PrefixPlan:
    """Every object under the prefix not yet catalogued, with the size and checksums the
    store has (a dry run reads sizes and indexes, not the data's bytes). A VCF, BAM or CRAM
    next to its index (``x.vcf.gz.tbi``, ``x.bam.bai``, ``x.cram.crai``) is registered with
    it, once it is known to belong."""
    require_admin(actor, "file_register")
    dataset = get_dataset(session, dataset_id)
    with store_answers():
        listed = list(islice(storage.list_objects(prefix), MAX_PREFIX_OBJECTS + 1))
        if len(listed) > MAX_PREFIX_OBJECTS:
            raise InvalidInput(
                f"More than {MAX_PREFIX_OBJECTS} objects start with this "
                "prefix; register it in parts.",
                details={"prefix": [prefix]},
            )
        sizes = dict(listed)
        taken = catalogued_keys(session, sizes)
        indexes = {key for key in sizes if key.lower().endswith(tuple(SUFFIXES))}
        data_keys = [key for key in sizes if key not in indexes and key not in taken]
        index_of = {key: _index_for(key, indexes - taken) for key in data_keys}
        skipped = [{"key": key, "reason": "already registered"} for key in sorted(taken)]
        paired = set(index_of.values())
        skipped += [
            {"key": key, "reason": "an index of no file under this prefix"}
            for key in sorted(indexes - paired - taken)
        ]
        problems: dict[str, str] = {}
        planned = []
        for key in data_keys:
            found = kind or next(
                (k for end, k in KIND_BY_SUFFIX.items() if key.lower().endswith(end)), None
            )
            if found is None:
                problems[key] = "its kind is not plain from its name: give kind"
            elif location_problems(key):
                problems[key] = location_problems(key)[0]
            else:
                planned.append(
                    _plan(
                        storage,
                        key,
                        sizes[key],
                        index_of[key],
                        found,
                        tier_of(dataset),
                        description,
                        problems,
                        dry_run,
                    )
                )
    if problems:
        raise InvalidInput("Nothing was registered.", details={"objects": problems})
    registered = (
        []
        if dry_run
        else [
            catalogue_file(session, actor, dataset, replace(p.record, index=p.index), now=now)
            for p in planned
        ]
    )
    return PrefixPlan(planned, skipped, registered)


def _plan(
    storage: Storage,
    key: str,
    size: int,
    index_key: str | None,
    kind: FileKind,
    tier: Tier,
    description: str,
    problems: dict[str, str],
    dry_run: bool,
) -> PlannedFile:
    sums = None if dry_run else digest(storage.read_chunks(key))
    record = FileRecord(
        key=key,
        name=key.rsplit("/", 1)[-1],
        kind=kind,
        tier=tier,
        description=description,
        size=size,
        md5=sums.md5 if sums else "",
        sha256=sums.sha256 if sums else "",
    )
    index = None
    if index_key is not None:
        try:
            index = check_index(storage, data_key=key, data_size=size, index_key=index_key)
        except IndexRejected as exc:
            problems[index_key] = exc.message
    return PlannedFile(record, index)


def _index_for(key: str, indexes: set[str]) -> str | None:
    """``x.vcf.gz.tbi`` / ``.csi``, ``x.bam.bai``, ``x.cram.crai``, or samtools' ``x.bai``."""
    candidates = [key + suffix for suffix in SUFFIXES]
    if key.lower().endswith(".bam"):
        candidates.append(key[:-4] + ".bai")
    return next((candidate for candidate in candidates if candidate in indexes), None)


@contextmanager
def store_answers() -> Iterator[None]:
    """The store failing half-way is a 503 to retry, never a 500 or a partial registration."""
    try:
        yield
    except StorageUnavailable as exc:
        raise StorageDown("The store did not answer; nothing was registered.") from exc
