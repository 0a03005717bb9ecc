"""Reading the catalogue: studies, datasets and files, for pages, the API and access."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload, selectinload

from access.duo.match import DatasetTerms
from access.ports import DatasetRef
from core.errors import NotFound
from datasets.agreements.models import AgreementAcceptance, DataUseAgreement
from datasets.catalogue.models import DataFile, Dataset, Study
from datasets.errors import FileRetired


def list_studies(session: Session) -> list[Study]:
    """Every study with its datasets, but not their files (loaded if asked for): pages of
    the whole catalogue show counts (``live_file_counts``), not a million files."""
    return list(session.scalars(
        select(Study).order_by(Study.accession)
        .options(selectinload(Study.datasets).lazyload(Dataset.files))
    ))


def list_datasets(session: Session) -> list[Dataset]:
    return list(session.scalars(
        select(Dataset).order_by(Dataset.id).options(lazyload(Dataset.files))
    ))


def live_file_counts(session: Session) -> dict[int, int]:
    """Each dataset's live files, as the database keeps them (revision 0021's triggers): one
    row per dataset whatever the files, read afresh rather than from loaded datasets."""
    rows = session.execute(select(Dataset.id, Dataset.live_file_count))
    return {dataset_id: count for dataset_id, count in rows}


def get_dataset(session: Session, dataset_id: int) -> Dataset:
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"No dataset {dataset_id}.")
    return dataset


def get_file(session: Session, file_id: int) -> DataFile:
    """Any catalogued file, retired or not: for admins and the catalogue's history."""
    data_file = session.get(DataFile, file_id)
    if data_file is None:
        raise NotFound(f"No file {file_id}.")
    return data_file


def get_live_file(session: Session, file_id: int) -> DataFile:
    """A file that URLs, DRS and htsget may still serve; FileRetired (410) once retired."""
    return live_file(session.get(DataFile, file_id), file_id)


class CatalogueEntry(Protocol):
    """What says whether a file may still be served: an ORM DataFile, or a plain record
    of it that a hot path read as a row (datasets/downloads/signed_urls.py)."""

    @property
    def id(self) -> int: ...
    @property
    def dataset_id(self) -> int: ...
    @property
    def retired_at(self) -> datetime | None: ...


EntryT = TypeVar("EntryT", bound=CatalogueEntry)


def live_file(data_file: EntryT | None, file_id: int) -> EntryT:
    """``get_live_file``'s verdict on a file read by a query of the caller's own."""
    if data_file is None:
        raise NotFound(f"No file {file_id}.")
    if data_file.retired_at is not None:
        raise FileRetired(data_file.id, data_file.dataset_id)
    return data_file


class CatalogueDirectory:
    """The catalogue's answer to access.ports.DatasetDirectory."""

    def lookup(self, session: Session, dataset_ids: Collection[int]) -> dict[int, DatasetRef]:
        if not dataset_ids:
            return {}
        rows = session.execute(_REF_COLUMNS.where(Dataset.id.in_(list(dataset_ids))))
        return {row.id: DatasetRef(*row) for row in rows}

    def requestable(self, session: Session) -> list[DatasetRef]:
        rows = session.execute(
            _REF_COLUMNS.where(Dataset.committee_id.is_not(None)).order_by(Dataset.id)
        )
        return [DatasetRef(*row) for row in rows]

    def by_accession(self, session: Session, accessions: Collection[str]) -> dict[str, DatasetRef]:
        if not accessions:
            return {}
        rows = session.execute(_REF_COLUMNS.where(Dataset.accession.in_(list(accessions))))
        return {row.accession: DatasetRef(*row) for row in rows}

    def data_use(self, session: Session, dataset_ids: Collection[int]) -> list[DatasetTerms]:
        """The terms only: a dataset's files (1,000 each at full size) stay unloaded."""
        if not dataset_ids:
            return []
        return [
            DatasetTerms.of(dataset)
            for dataset in session.scalars(
                select(Dataset).where(Dataset.id.in_(list(dataset_ids))).order_by(Dataset.id)
                .options(lazyload(Dataset.files))
            )
        ]

    def agreements_to_accept(
        self, session: Session, user_id: int, dataset_ids: Collection[int]
    ) -> list[DatasetRef]:
        if not dataset_ids:
            return []
        newest = (
            select(DataUseAgreement.dataset_id, func.max(DataUseAgreement.version).label("v"))
            .where(DataUseAgreement.dataset_id.in_(list(dataset_ids)))
            .group_by(DataUseAgreement.dataset_id)
            .subquery()
        )
        accepted = select(AgreementAcceptance.id).where(
            AgreementAcceptance.agreement_id == DataUseAgreement.id,
            AgreementAcceptance.user_id == user_id,
        )
        rows = session.execute(
            _REF_COLUMNS.join(newest, newest.c.dataset_id == Dataset.id)
            .join(
                DataUseAgreement,
                (DataUseAgreement.dataset_id == Dataset.id)
                & (DataUseAgreement.version == newest.c.v),
            )
            .where(~accepted.exists())
            .order_by(Dataset.id)
        )
        return [DatasetRef(*row) for row in rows]


# Column order matches DatasetRef's fields.
_REF_COLUMNS = select(Dataset.id, Dataset.accession, Dataset.name, Dataset.committee_id)
