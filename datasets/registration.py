"""Registering studies, datasets and files in the catalogue (admin use cases, audited)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity import Actor
from audit.actions import AuditAction
from audit.services import record_event
from datasets.models import DataFile, Dataset, FileKind, Study, Tier
from datasets.storage import Storage

CHUNK = 1024 * 1024


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
) -> Dataset:
    dataset = session.scalar(select(Dataset).where(Dataset.accession == accession))
    if dataset is None:
        dataset = Dataset(study_id=study.id, accession=accession, name=name, duo_codes=duo_codes,
                          use_limitation_text=use_limitation_text, committee_id=committee_id)
        session.add(dataset)
        session.flush()
        record_event(session, actor.audit(), AuditAction.DATASET_REGISTER, now=now,
                     target_type="dataset", target_id=dataset.id,
                     details={"accession": accession, "committee_id": committee_id,
                              "duo_codes": duo_codes})
    return dataset


def register_file(
    session: Session, actor: Actor, dataset: Dataset, source: Path, *, key: str,
    kind: FileKind, tier: Tier, description: str, storage: Storage, now: datetime,
) -> DataFile:
    """Copy a file into storage and catalogue it with its size and checksums."""
    existing = session.scalar(select(DataFile).where(DataFile.storage_key == key))
    if existing is not None:
        return existing
    sha256, md5, size = _digest(source)
    storage.put_file(key, source)
    data_file = DataFile(
        dataset_id=dataset.id, name=source.name, kind=kind.value, tier=tier.value,
        description=description, storage_key=key, size=size, md5=md5, sha256=sha256,
        created_at=now,
    )
    session.add(data_file)
    session.flush()
    record_event(session, actor.audit(), AuditAction.FILE_REGISTER, now=now,
                 target_type="file", target_id=data_file.id,
                 details={"dataset_id": dataset.id, "key": key, "sha256": sha256, "size": size})
    return data_file


def _digest(path: Path) -> tuple[str, str, int]:
    sha256 = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False)  # MD5 only because dbGaP/DRS manifests carry it
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            sha256.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return sha256.hexdigest(), md5.hexdigest(), size
