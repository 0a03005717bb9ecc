"""What access needs to know about the catalogue, without importing it.

Dependencies point datasets -> access, so the catalogue implements this protocol and
app.py hands the implementation to the views that need it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from access.duo.match import DatasetTerms


@dataclass(frozen=True)
class DatasetRef:
    id: int
    accession: str
    name: str
    committee_id: int | None  # None: open data, nothing to request


class DatasetDirectory(Protocol):
    def lookup(self, session: Session, dataset_ids: Collection[int]) -> dict[int, DatasetRef]:
        """The known datasets among the ids; unknown ids are simply absent."""
        ...

    def requestable(self, session: Session) -> list[DatasetRef]:
        """Every dataset a committee governs, for the request form."""
        ...

    def by_accession(self, session: Session, accessions: Collection[str]) -> dict[str, DatasetRef]:
        """The known datasets among the accessions (a visa names a dataset by accession)."""
        ...

    def data_use(self, session: Session, dataset_ids: Collection[int]) -> list[DatasetTerms]:
        """The data-use terms (DUO codes, disease terms) of the known datasets, by id."""
        ...

    def agreements_to_accept(
        self, session: Session, user_id: int, dataset_ids: Collection[int]
    ) -> list[DatasetRef]:
        """Those datasets whose newest data-use agreement the user has not accepted."""
        ...
