"""The names audit pages show, read from the identity, access and catalogue tables.

The answer to audit.review.names.AuditDirectory; it lives here, at the top of the
dependency order, because only here are all those tables in reach.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from access.identity.models import User, email_is
from access.models import Committee
from access.requests.models import AccessRequest
from audit.review.names import Choice
from datasets.catalogue.models import DataFile, Dataset, Study

# For each kind: the id column and the columns of its label.
_LABELLED: dict[str, tuple[Any, ...]] = {
    "dataset": (Dataset.id, Dataset.accession, Dataset.name),
    "file": (DataFile.id, DataFile.name),
    "committee": (Committee.id, Committee.name),
    "access_request": (AccessRequest.id, AccessRequest.title),
    "study": (Study.id, Study.accession, Study.title),
}


class NamesForAudit:
    def labels(
        self, session: Session, wanted: Mapping[str, Collection[int]]
    ) -> dict[str, dict[int, str]]:
        found: dict[str, dict[int, str]] = {}
        for kind, ids in wanted.items():
            if not ids:
                continue
            if kind == "user":
                users = session.scalars(select(User).where(User.id.in_(list(ids))))
                found[kind] = {user.id: _user_label(user) for user in users}
            elif kind in _LABELLED:
                key, *parts = _LABELLED[kind]
                rows = session.execute(select(key, *parts).where(key.in_(list(ids))))
                found[kind] = {row[0]: " · ".join(str(p) for p in row[1:]) for row in rows}
        return found

    def find_users(self, session: Session, text: str, limit: int) -> list[Choice]:
        text = text.strip()
        if not text:
            return []
        matches = [User.name.icontains(text, autoescape=True), User.subject == text,
                   email_is(session, text)]
        if text.isdigit() and len(text) < 10:
            matches.append(User.id == int(text))
        users = session.scalars(
            select(User).where(or_(*matches)).order_by(User.name, User.id).limit(limit)
        )
        return [Choice(user.id, _user_label(user)) for user in users]

    def datasets(self, session: Session) -> list[Choice]:
        rows = session.execute(
            select(Dataset.id, Dataset.accession, Dataset.name).order_by(Dataset.accession)
        )
        return [Choice(row.id, f"{row.accession} · {row.name}") for row in rows]


def _user_label(user: User) -> str:
    """The name, and the email that tells two people of one name apart."""
    if user.name and user.email:
        return f"{user.name} <{user.email}>"
    return user.display_name
