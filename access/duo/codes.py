"""The GA4GH Data Use Ontology code list (EBISPOT/DUO, CC BY 4.0; see DUO-LICENSE.md)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DUO_CSV = Path(__file__).with_name("duo.csv")


@dataclass(frozen=True)
class DuoTerm:
    id: str
    shorthand: str
    label: str
    description: str


@cache
def duo_terms() -> dict[str, DuoTerm]:
    with DUO_CSV.open(encoding="utf-8", newline="") as handle:
        return {
            row["id"]: DuoTerm(row["id"], row["shorthand"], row["label"], row["description"])
            for row in csv.DictReader(handle)
        }


def describe(code: str) -> DuoTerm:
    """The term for a code; an unknown code is shown as itself rather than hidden."""
    return duo_terms().get(code) or DuoTerm(code, code, code, "Not in the DUO code list.")


def code_for_shorthand(shorthand: str) -> str:
    for term in duo_terms().values():
        if term.shorthand == shorthand:
            return term.id
    raise KeyError(shorthand)


class UnknownDuoCode(ValueError):
    """Not a term a dataset can carry; the message says why, for the admin who typed it."""


def resolve_code(given: str) -> DuoTerm:
    """The term an admin means by an id (``DUO:0000042``) or a shorthand (``GRU``, any case).

    The two roots of the list ("data use permission", "data use modifier") have no shorthand
    and are categories of terms, not limitations, so a dataset cannot carry them."""
    text = given.strip()
    term = duo_terms().get(text.upper()) or next(
        (t for t in duo_terms().values() if t.shorthand and t.shorthand == text.upper()), None
    )
    if term is None:
        raise UnknownDuoCode(f"{given!r} is neither a DUO id nor a shorthand in the code list.")
    if not term.shorthand:
        raise UnknownDuoCode(
            f"{term.id} ({term.label}) is a category of terms, not a "
            "limitation a dataset can carry."
        )
    return term


def is_permission(term: DuoTerm) -> bool:
    """A data use permission (GRU, HMB, DS, POA, NRES) says what use is allowed; a dataset
    has at most one, and modifiers narrow it. The list tells them apart only in its text."""
    return term.description.startswith("This data use permission")
