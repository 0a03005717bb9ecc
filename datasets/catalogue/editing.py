"""Admins creating and changing studies and datasets (consent groups), each act audited.

Everything a request body says is checked against the whole resulting record before
anything changes, so a bad body is one 400 naming its field and leaves no trace but the
refusal. Whether a dataset is open or controlled is its committee: controlled data needs one
to decide who may have it, open data has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from access.committees import get_committee, move_unreviewed_requests, requests_in_review
from access.duo.codes import code_for_shorthand, describe, is_permission
from access.identity.actor import Actor
from access.requests.models import RequestedDataset
from access.roles import require_admin
from audit.log.actions import AuditAction
from audit.log.append import record_event
from core.errors import Conflict, InvalidInput, NotFound
from datasets.catalogue.models import DataFile, Dataset, Study, Tier
from datasets.catalogue.queries import get_dataset, get_file

DISEASE_SPECIFIC = code_for_shorthand("DS")


def get_study(session: Session, study_id: int) -> Study:
    study = session.get(Study, study_id)
    if study is None:
        raise NotFound(f"No study {study_id}.")
    return study


def create_study(
    session: Session, actor: Actor, *, accession: str, title: str, description: str, now: datetime
) -> Study:
    require_admin(actor, "study_create")
    _require_free(session, Study, accession)
    study = Study(accession=accession, title=title, description=description)
    session.add(study)
    session.flush()
    record_event(
        session,
        actor.audit(),
        AuditAction.STUDY_REGISTER,
        now=now,
        target_type="study",
        target_id=study.id,
        details={"accession": accession, "title": title},
    )
    return study


def update_study(
    session: Session, actor: Actor, study_id: int, *, changes: Mapping[str, Any], now: datetime
) -> Study:
    require_admin(actor, "study_update")
    study = get_study(session, study_id)
    if "accession" in changes and changes["accession"] != study.accession:
        _require_free(session, Study, changes["accession"])
    _apply(session, actor, study, changes, AuditAction.STUDY_UPDATE, "study", now)
    return study


def create_dataset(
    session: Session, actor: Actor, *, fields: Mapping[str, Any], now: datetime
) -> Dataset:
    require_admin(actor, "dataset_create")
    _require_free(session, Dataset, fields["accession"])
    _check_record(session, fields)
    values = {name: value for name, value in fields.items() if name != "tier"}
    dataset = Dataset(**values)
    session.add(dataset)
    session.flush()
    record_event(
        session,
        actor.audit(),
        AuditAction.DATASET_REGISTER,
        now=now,
        target_type="dataset",
        target_id=dataset.id,
        details={name: values[name] for name in sorted(values)},
    )
    return dataset


def update_dataset(
    session: Session, actor: Actor, dataset_id: int, *, changes: Mapping[str, Any], now: datetime
) -> Dataset:
    """A new committee takes over the requests no committee has seen; while one is
    deliberating a request for the dataset the move is refused
    (access/committees.py says why)."""
    require_admin(actor, "dataset_update")
    dataset = get_dataset(session, dataset_id)
    current = {
        "study_id": dataset.study_id,
        "accession": dataset.accession,
        "committee_id": dataset.committee_id,
        "duo_codes": dataset.duo_codes,
        "duo_disease_ids": dataset.duo_disease_ids,
        "tier": Tier.OPEN if dataset.committee_id is None else Tier.CONTROLLED,
    }
    merged = {**current, **changes}
    if merged["accession"] != dataset.accession:
        _require_free(session, Dataset, merged["accession"])
    _check_record(session, merged)
    if merged["tier"] != current["tier"]:
        _require_no_files_or_requests(session, dataset)
    new_committee = merged["committee_id"]
    moved: list[int] = []
    if new_committee != dataset.committee_id and new_committee is not None:
        in_review = requests_in_review(session, dataset.id)
        if in_review:
            raise Conflict(
                "A committee is reviewing requests for this dataset; move it to another "
                "committee once they are decided or withdrawn.",
                details={"committee_id": dataset.committee_id, "requests": in_review},
            )
        moved = move_unreviewed_requests(session, dataset.id, new_committee)
    changes = {name: value for name, value in changes.items() if name != "tier"}
    _apply(
        session,
        actor,
        dataset,
        changes,
        AuditAction.DATASET_UPDATE,
        "dataset",
        now,
        extra={"requests_moved": moved} if moved else {},
    )
    return dataset


def update_file(
    session: Session, actor: Actor, file_id: int, *, changes: Mapping[str, Any], now: datetime
) -> DataFile:
    """A retired file may still be described: its history is read too."""
    require_admin(actor, "file_update")
    data_file = get_file(session, file_id)
    _apply(
        session,
        actor,
        data_file,
        changes,
        AuditAction.FILE_UPDATE,
        "file",
        now,
        extra={"dataset_id": data_file.dataset_id},
    )
    return data_file


def retire_file(session: Session, actor: Actor, file_id: int, *, now: datetime) -> DataFile:
    """From now on no URL, DRS access or htsget ticket is issued for the file, and URLs of the
    local backend issued before stop working; its row, its events and its stored object stay
    (the object is the storage operator's to delete, if ever)."""
    require_admin(actor, "file_retire")
    data_file = get_file(session, file_id)
    if data_file.retired_at is not None:
        raise Conflict(
            f"File {file_id} is already retired.",
            details={"retired_at": data_file.retired_at.isoformat()},
        )
    data_file.retired_at = now
    record_event(
        session,
        actor.audit(),
        AuditAction.FILE_RETIRE,
        now=now,
        target_type="file",
        target_id=data_file.id,
        details={
            "dataset_id": data_file.dataset_id,
            "key": data_file.storage_key,
            "sha256": data_file.sha256,
        },
    )
    return data_file


def _check_record(session: Session, record: Mapping[str, Any]) -> None:
    """The rules that span fields, on the record as it would be."""
    problems: dict[str, list[str]] = {}
    if session.get(Study, record["study_id"]) is None:
        problems["study_id"] = [f"No study {record['study_id']}."]
    committee_id = record["committee_id"]
    if record["tier"] == Tier.CONTROLLED and committee_id is None:
        problems["committee_id"] = ["Controlled data needs the committee that governs it."]
    elif record["tier"] == Tier.OPEN and committee_id is not None:
        problems["committee_id"] = ["Open data has no committee: leave committee_id null."]
    elif committee_id is not None:
        try:
            get_committee(session, committee_id)
        except NotFound as exc:
            problems["committee_id"] = [exc.message]
    codes = record["duo_codes"]
    permissions = [code for code in codes if is_permission(describe(code))]
    if len(permissions) > 1:
        problems["duo_codes"] = [
            f"A dataset has at most one data use permission, not "
            f"{', '.join(describe(c).shorthand for c in permissions)}."
        ]
    if DISEASE_SPECIFIC in codes and not record["duo_disease_ids"]:
        problems["duo_disease_ids"] = ["DS (disease-specific research) names its diseases."]
    elif record["duo_disease_ids"] and DISEASE_SPECIFIC not in codes:
        problems["duo_disease_ids"] = ["Only DS (disease-specific research) takes diseases."]
    if problems:
        raise InvalidInput("Some fields are missing or invalid.", details=problems)


def _require_free(session: Session, model: type[Study] | type[Dataset], accession: str) -> None:
    if session.scalar(select(model.id).where(model.accession == accession)) is not None:
        raise Conflict(
            f"The accession {accession!r} is already taken.", details={"accession": accession}
        )


def _require_no_files_or_requests(session: Session, dataset: Dataset) -> None:
    """Each file keeps the tier it was registered with, and a request went to a committee:
    flipping the tier under them would open individual-level data or orphan a request."""
    files = session.scalar(
        select(func.count()).select_from(DataFile).where(DataFile.dataset_id == dataset.id)
    )
    requests = session.scalar(
        select(func.count())
        .select_from(RequestedDataset)
        .where(RequestedDataset.dataset_id == dataset.id)
    )
    if files or requests:
        raise Conflict(
            "A dataset with files or requests keeps its tier.",
            details={"tier": "fixed", "files": files, "requests": requests},
        )


def _apply(
    session: Session,
    actor: Actor,
    record: Study | Dataset | DataFile,
    changes: Mapping[str, Any],
    action: AuditAction,
    target_type: str,
    now: datetime,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Set the changed fields and record each one's old and new value."""
    changed = {
        name: {"from": getattr(record, name), "to": value}
        for name, value in changes.items()
        if getattr(record, name) != value
    }
    for name, value in changes.items():
        setattr(record, name, value)
    session.flush()
    record_event(
        session,
        actor.audit(),
        action,
        now=now,
        target_type=target_type,
        target_id=record.id,
        details={"changes": changed, **(extra or {})},
    )
    session.refresh(record)  # a new study_id shows its study in the answer
