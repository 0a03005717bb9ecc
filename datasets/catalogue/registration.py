"""Registering studies, datasets and files in the catalogue (admin use cases, audited)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from audit.log.actions import AuditAction
from audit.log.append import record_event
from datasets.catalogue.checksums import digest, file_chunks
from datasets.catalogue.indexes import IndexRecord, check_index
from datasets.catalogue.models import DataFile, Dataset, FileKind, Study, Tier
from datasets.storage import Storage


def ensure_study(
    session: Session, actor: Actor, *, accession: str, title: str, description: str,
    now: datetime,
) -> Study:
    study = session.scalar(select(Study).where(Study.accession == accession))
    if study is None:
        study = Study(accession=accession, title=title, description=description)
        session.add(study)
        session.flush()
        record_event(session, actor.audit(), AuditAction.STUDY_REGISTER, now=now,
                     target_type="study", target_id=study.id, details={"accession": accession})
    return study


def ensure_dataset(
    session: Session, actor: Actor, study: Study, *, accession: str, name: str,
    duo_codes: list[str], use_limitation_text: str, committee_id: int | None, now: datetime,
    duo_disease_ids: list[str] | None = None,
) -> Dataset:
    dataset = session.scalar(select(Dataset).where(Dataset.accession == accession))
    if dataset is None:
        dataset = Dataset(study_id=study.id, accession=accession, name=name, duo_codes=duo_codes,
                          duo_disease_ids=list(duo_disease_ids or []),
                          use_limitation_text=use_limitation_text, committee_id=committee_id)
        session.add(dataset)
        session.flush()
        record_event(session, actor.audit(), AuditAction.DATASET_REGISTER, now=now,
                     target_type="dataset", target_id=dataset.id,
                     details={"accession": accession, "committee_id": committee_id,
                              "duo_codes": duo_codes,
                              "duo_disease_ids": list(duo_disease_ids or [])})
    return dataset


@dataclass(frozen=True)
class FileRecord:
    """What the catalogue records about one stored object."""

    key: str
    name: str
    kind: FileKind
    tier: Tier
    description: str
    size: int
    md5: str
    sha256: str
    index: IndexRecord | None = None  # checked to belong to the file (catalogue/indexes.py)


def register_file(
    session: Session, actor: Actor, dataset: Dataset, source: Path, *, key: str,
    kind: FileKind, tier: Tier, description: str, storage: Storage, now: datetime,
    index_source: Path | None = None,
) -> DataFile:
    """Copy a file (and its index, stored beside it under the index's own suffix) into
    storage and catalogue it with its size and checksums; IndexRejected if the index is
    not this file's."""
    existing = session.scalar(select(DataFile).where(DataFile.storage_key == key))
    if existing is not None:
        return existing
    sums = digest(file_chunks(source))
    storage.put_file(key, source)
    record = FileRecord(key=key, name=source.name, kind=kind, tier=tier, description=description,
                        size=sums.size, md5=sums.md5, sha256=sums.sha256)
    if index_source is not None:
        index_key = key + index_source.name.removeprefix(source.name)
        storage.put_file(index_key, index_source)
        record = replace(record, index=check_index(storage, data_key=key, data_size=sums.size,
                                                   index_key=index_key))
    return catalogue_file(session, actor, dataset, record, now=now)


def catalogue_file(
    session: Session, actor: Actor, dataset: Dataset, record: FileRecord, *, now: datetime
) -> DataFile:
    """Catalogue an object already in storage; the caller has checked its size and checksums."""
    data_file = DataFile(
        dataset_id=dataset.id, name=record.name, kind=record.kind.value, tier=record.tier.value,
        description=record.description, storage_key=record.key, size=record.size,
        md5=record.md5, sha256=record.sha256, created_at=now,
    )
    details: dict[str, object] = {"dataset_id": dataset.id, "key": record.key,
                                  "sha256": record.sha256, "size": record.size}
    if record.index is not None:
        index = record.index
        data_file.data_format, data_file.index_format = index.data_format, index.format
        data_file.index_key, data_file.index_size = index.key, index.size
        data_file.index_sha256, data_file.index_md5 = index.sha256, index.md5
        details["index"] = {"key": index.key, "format": index.format.value,
                            "sha256": index.sha256, "size": index.size}
    session.add(data_file)
    session.flush()
    record_event(session, actor.audit(), AuditAction.FILE_REGISTER, now=now,
                 target_type="file", target_id=data_file.id, details=details)
    return data_file
