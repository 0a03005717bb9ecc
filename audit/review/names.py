"""What the auditors' pages call things: people, datasets, files, committees, requests.

The log holds ids only (names change, and some are personal data kept encrypted
elsewhere). ``audit`` sits below ``access`` and ``datasets``, so it cannot read their
tables: app.py hands ``audit.install`` a directory that can (datasets/audit_directory.py),
and each page asks it once per kind of object, however many rows it shows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.orm import Session

# The kinds of object a page names; an event's target_type is one of these, or unnamed.
KINDS = ("user", "dataset", "file", "committee", "access_request", "study")


@dataclass(frozen=True)
class Choice:
    id: int
    label: str


class AuditDirectory(Protocol):
    def labels(
        self, session: Session, wanted: Mapping[str, Collection[int]]
    ) -> dict[str, dict[int, str]]:
        """Names of the known objects among the ids, by kind (``KINDS``); unknown ids are
        absent, so a page can say "no such dataset"."""
        ...

    def find_users(self, session: Session, text: str, limit: int) -> list[Choice]:
        """Users whose name contains the text, or whose email, subject or id it is."""
        ...

    def datasets(self, session: Session) -> list[Choice]:
        """Every dataset, for pickers."""
        ...


@dataclass
class Names:
    """The labels of one page: gathered first, looked up in one query per kind."""

    found: dict[str, dict[int, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, session: Session, directory: AuditDirectory,
           wanted: Iterable[tuple[str, int | str | None]]) -> Names:
        ids: dict[str, set[int]] = {}
        for kind, value in wanted:
            number = _as_id(value)
            if kind in KINDS and number is not None:
                ids.setdefault(kind, set()).add(number)
        return cls(directory.labels(session, ids) if ids else {})

    def label(self, kind: str | None, value: int | str | None) -> str | None:
        number = _as_id(value)
        if kind is None or number is None:
            return None
        return self.found.get(kind, {}).get(number)


def _as_id(value: int | str | None) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value)
    return None
