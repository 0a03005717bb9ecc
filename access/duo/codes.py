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
        return {row["id"]: DuoTerm(row["id"], row["shorthand"], row["label"], row["description"])
                for row in csv.DictReader(handle)}


def describe(code: str) -> DuoTerm:
    """The term for a code; an unknown code is shown as itself rather than hidden."""
    return duo_terms().get(code) or DuoTerm(code, code, code, "Not in the DUO code list.")


def code_for_shorthand(shorthand: str) -> str:
    for term in duo_terms().values():
        if term.shorthand == shorthand:
            return term.id
    raise KeyError(shorthand)
