"""The automatic data-use match: does a research purpose fit a dataset's DUO terms?

A recommendation shown to reviewers, never the decision. Pure functions, no database.

Public interface (what the request workflow calls):

- ``ResearchPurpose`` — what the applicant declared; ``ResearchPurpose.of(request)`` reads
  it from an AccessRequest's ``purpose_*`` columns.
- ``DatasetTerms`` — a dataset's DUO codes and, for DS, its disease terms;
  ``DatasetTerms.of(dataset)`` reads them from a catalogue Dataset.
- ``match_dataset(terms, purpose) -> DatasetMatch`` and
  ``match_request(datasets, purpose) -> list[DatasetMatch]`` (one per dataset, same order).
- ``DatasetMatch.verdict`` is ``Verdict.APPROVE | DENY | ABSTAIN``; ``reasons`` are sentences
  naming the codes and the purpose. The request page's partial ``requests/_duo_match.html``
  renders a list of them (``{% include "requests/_duo_match.html" %}`` with ``matches``).

The rules follow the DUOS / FireCloud "version 2" business rules, read against the DUO
descriptions: a disease-specific purpose (DS-X) is met by GRU, HMB or DS-X; health/medical
research by GRU or HMB (or a disease the dataset is limited to); population origins or
ancestry by GRU or POA and refused by NPOA; methods development is refused by NMDS unless the
purpose stays within the dataset's diseases; NPU refuses for-profit organisations, NCU
commercial use, NPUNCU both. Modifiers that impose conditions the purpose does not capture
(IRB, PUB, COL, MOR, GS, US, PS, IS, TS, RTN, RS, GSO) need a person: ABSTAIN with the reason.
Any DENY wins; then any ABSTAIN; otherwise APPROVE.

Diseases: there is no disease ontology here, so only an exact term match counts. A purpose
disease that is not one of the dataset's DS terms gives ABSTAIN (it may be a subtype of one
of them, which only a reviewer or an ontology can tell), never APPROVE or DENY.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from access.duo.codes import describe


class Verdict(StrEnum):
    APPROVE = "approve"
    DENY = "deny"
    ABSTAIN = "abstain"


@dataclass(frozen=True)
class ResearchPurpose:
    """The purpose as declared by the applicant; empty disease_ids = not disease-specific."""

    disease_ids: frozenset[str] = frozenset()
    health_medical: bool = False
    methods_development: bool = False
    population_origins: bool = False
    commercial_use: bool = False
    for_profit_organisation: bool = False

    @classmethod
    def of(cls, request: _DeclaresPurpose) -> ResearchPurpose:
        return cls(
            disease_ids=frozenset(request.purpose_disease_ids or ()),
            health_medical=bool(request.purpose_health_medical),
            methods_development=bool(request.purpose_methods_development),
            population_origins=bool(request.purpose_population_origins),
            commercial_use=bool(request.purpose_commercial_use),
            for_profit_organisation=bool(request.purpose_for_profit_organisation),
        )

    def describe(self) -> str:
        parts = []
        if self.disease_ids:
            parts.append(f"research on {', '.join(sorted(self.disease_ids))}")
        if self.health_medical:
            parts.append("health/medical/biomedical research")
        if self.methods_development:
            parts.append("methods development")
        if self.population_origins:
            parts.append("population origins or ancestry research")
        if self.commercial_use:
            parts.append("commercial use")
        if self.for_profit_organisation:
            parts.append("by a for-profit organisation")
        return "; ".join(parts) if parts else "general research (no category declared)"


class _DeclaresPurpose(Protocol):
    """An AccessRequest's purpose columns (read-only, so Mapped[bool] or bool | None fit)."""

    @property
    def purpose_disease_ids(self) -> list[str] | None: ...
    @property
    def purpose_health_medical(self) -> bool | None: ...
    @property
    def purpose_methods_development(self) -> bool | None: ...
    @property
    def purpose_population_origins(self) -> bool | None: ...
    @property
    def purpose_commercial_use(self) -> bool | None: ...
    @property
    def purpose_for_profit_organisation(self) -> bool | None: ...


class _HasDataUse(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def duo_codes(self) -> list[str]: ...
    @property
    def duo_disease_ids(self) -> list[str]: ...


@dataclass(frozen=True)
class DatasetTerms:
    dataset_id: int
    name: str
    duo_codes: frozenset[str]
    disease_ids: frozenset[str] = frozenset()

    @classmethod
    def of(cls, dataset: _HasDataUse) -> DatasetTerms:
        return cls(dataset.id, dataset.name, frozenset(dataset.duo_codes or ()),
                   frozenset(dataset.duo_disease_ids or ()))


@dataclass(frozen=True)
class DatasetMatch:
    dataset_id: int
    name: str
    verdict: Verdict
    reasons: tuple[str, ...] = field(default=())


# DUO ids by shorthand, fixed by the ontology (see access/duo/duo.csv).
NRES, GRU, HMB, DS, POA = ("DUO:0000004", "DUO:0000042", "DUO:0000006", "DUO:0000007",
                           "DUO:0000011")
NPOA, NMDS, NPU, NCU, NPUNCU = ("DUO:0000044", "DUO:0000015", "DUO:0000045", "DUO:0000046",
                                "DUO:0000018")
CC = "DUO:0000043"
PERMISSIONS = frozenset({NRES, GRU, HMB, DS, POA})
# Conditions the declared purpose cannot show to be met: a reviewer must check them.
NEEDS_REVIEW = {
    "DUO:0000021": "documentation of local IRB/ERB approval",
    "DUO:0000019": "an agreement to publish the results",
    "DUO:0000020": "a collaboration with the primary study investigators",
    "DUO:0000024": "an agreement not to publish before the moratorium ends",
    "DUO:0000022": "use within the permitted geographic region",
    "DUO:0000026": "that the users are approved users",
    "DUO:0000027": "that the use is within the approved project",
    "DUO:0000028": "that the use is within an approved institution",
    "DUO:0000025": "that the use fits the time limit",
    "DUO:0000029": "an agreement to return derived data to the resource",
    "DUO:0000012": "that the research type fits the dataset's research-specific restriction",
    "DUO:0000016": "that the study is genetic (not phenotype-only) research",
}


def match_request(datasets: Iterable[DatasetTerms], purpose: ResearchPurpose
                  ) -> list[DatasetMatch]:
    return [match_dataset(terms, purpose) for terms in datasets]


def match_dataset(terms: DatasetTerms, purpose: ResearchPurpose) -> DatasetMatch:
    denials: list[str] = []
    reviews: list[str] = []
    fits: list[str] = []
    _check_permission(terms, purpose, fits, denials, reviews)
    _check_modifiers(terms, purpose, fits, denials, reviews)
    verdict = Verdict.DENY if denials else Verdict.ABSTAIN if reviews else Verdict.APPROVE
    return DatasetMatch(terms.dataset_id, terms.name, verdict, tuple(denials + reviews + fits))


def _code(duo_id: str) -> str:
    term = describe(duo_id)
    return f"{term.shorthand} ({duo_id})" if term.shorthand not in ("", duo_id) else duo_id


def _check_permission(terms: DatasetTerms, purpose: ResearchPurpose, fits: list[str],
                      denials: list[str], reviews: list[str]) -> None:
    granted = terms.duo_codes & PERMISSIONS
    wanted = purpose.describe()
    if not granted:
        reviews.append("The dataset records no DUO data-use permission (GRU, HMB, DS, POA or "
                       "NRES), so nothing can be matched automatically.")
        return
    if granted & {NRES, GRU}:
        fits.append(f"{_code(min(granted & {NRES, GRU}))} allows any research purpose, "
                    f"including {wanted}.")
        return
    outcomes = [_one_permission(code, terms, purpose) for code in sorted(granted)]
    met = [text for verdict, text in outcomes if verdict is Verdict.APPROVE]
    if met:
        fits.extend(met)
    elif any(verdict is Verdict.ABSTAIN for verdict, _ in outcomes):
        reviews.extend(text for verdict, text in outcomes if verdict is Verdict.ABSTAIN)
    else:
        denials.extend(text for _, text in outcomes)


def _one_permission(code: str, terms: DatasetTerms, purpose: ResearchPurpose
                    ) -> tuple[Verdict, str]:
    wanted = purpose.describe()
    if code == POA:
        if purpose.population_origins and not purpose.disease_ids:
            return Verdict.APPROVE, f"{_code(POA)} allows {wanted}."
        return Verdict.DENY, (f"{_code(POA)} limits use to population origins or ancestry "
                              f"research; the purpose is {wanted}.")
    if purpose.population_origins:
        return Verdict.DENY, (f"{_code(code)} does not allow population origins or ancestry "
                              f"research (only GRU or POA do); the purpose is {wanted}.")
    if code == HMB:
        if purpose.health_medical or purpose.disease_ids:
            return Verdict.APPROVE, f"{_code(HMB)} allows {wanted}."
        return Verdict.DENY, (f"{_code(HMB)} limits use to health/medical/biomedical research; "
                              f"the purpose is {wanted}.")
    return _disease_permission(terms, purpose)


def _disease_permission(terms: DatasetTerms, purpose: ResearchPurpose) -> tuple[Verdict, str]:
    limited_to = ", ".join(sorted(terms.disease_ids)) or "no recorded disease"
    if not terms.disease_ids:
        return Verdict.ABSTAIN, (f"{_code(DS)} is set but the dataset names no disease term, "
                                 "so a reviewer must say which diseases it allows.")
    if not purpose.disease_ids:
        return Verdict.DENY, (f"{_code(DS)} limits use to research on {limited_to}; the "
                              f"purpose is not disease-specific ({purpose.describe()}).")
    unknown = sorted(purpose.disease_ids - terms.disease_ids)
    if not unknown:
        return Verdict.APPROVE, (f"{_code(DS)} allows research on {limited_to}, which covers "
                                 f"the purpose's {', '.join(sorted(purpose.disease_ids))}.")
    return Verdict.ABSTAIN, (
        f"{_code(DS)} limits use to research on {limited_to}; the purpose names "
        f"{', '.join(unknown)}. There is no disease ontology here to tell whether "
        f"{', '.join(unknown)} falls under {limited_to}: a reviewer must judge.")


def _check_modifiers(terms: DatasetTerms, purpose: ResearchPurpose, fits: list[str],
                     denials: list[str], reviews: list[str]) -> None:
    codes = terms.duo_codes
    if NPOA in codes and purpose.population_origins:
        denials.append(f"{_code(NPOA)} prohibits population origins or ancestry research, "
                       "which the purpose declares.")
    if NMDS in codes and purpose.methods_development:
        within = (DS in codes and purpose.disease_ids
                  and purpose.disease_ids <= terms.disease_ids)
        if within:
            fits.append(f"{_code(NMDS)} allows methods development only within the dataset's "
                        "diseases, and the purpose stays within them.")
        else:
            denials.append(f"{_code(NMDS)} prohibits methods development research (software, "
                           "algorithms) outside the dataset's disease limits, which the "
                           "purpose declares.")
    if codes & {NPU, NPUNCU} and purpose.for_profit_organisation:
        code = _code(NPU if NPU in codes else NPUNCU)
        denials.append(f"{code} limits use to not-for-profit organisations; the applicant's "
                       "organisation is for-profit.")
    if codes & {NCU, NPUNCU} and purpose.commercial_use:
        code = _code(NCU if NCU in codes else NPUNCU)
        denials.append(f"{code} limits use to non-commercial use; the purpose declares "
                       "commercial use.")
    for code in sorted(codes & NEEDS_REVIEW.keys()):
        reviews.append(f"{_code(code)} needs manual review: a reviewer must check "
                       f"{NEEDS_REVIEW[code]}.")
    known = PERMISSIONS | NEEDS_REVIEW.keys() | {NPOA, NMDS, NPU, NCU, NPUNCU, CC}
    for code in sorted(codes - known):
        reviews.append(f"{_code(code)} is not a DUO permission or modifier this match knows; "
                       "a reviewer must read it.")

