"""The automatic data-use match: one test per rule, each pinning the verdict and its reason."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from flask import Flask, render_template

from access.duo.codes import code_for_shorthand
from access.duo.match import (
    DatasetMatch,
    DatasetTerms,
    ResearchPurpose,
    Verdict,
    match_dataset,
    match_request,
)

T2D = "MONDO:0005148"
CANCER = "MONDO:0004992"


def terms(*shorthands: str, diseases: tuple[str, ...] = ()) -> DatasetTerms:
    return DatasetTerms(1, "consent group", frozenset(code_for_shorthand(s) for s in shorthands),
                        frozenset(diseases))


def verdict(dataset: DatasetTerms, purpose: ResearchPurpose) -> tuple[Verdict, str]:
    found = match_dataset(dataset, purpose)
    return found.verdict, " ".join(found.reasons)


def test_gru_meets_a_disease_specific_purpose() -> None:
    result, why = verdict(terms("GRU"), ResearchPurpose(disease_ids=frozenset({T2D})))
    assert result is Verdict.APPROVE
    assert f"GRU (DUO:0000042) allows any research purpose, including research on {T2D}" in why


def test_hmb_meets_a_disease_specific_purpose() -> None:
    result, why = verdict(terms("HMB"), ResearchPurpose(disease_ids=frozenset({T2D})))
    assert result is Verdict.APPROVE
    assert f"HMB (DUO:0000006) allows research on {T2D}" in why


def test_same_disease_term_meets_ds() -> None:
    result, why = verdict(terms("DS", diseases=(T2D,)),
                          ResearchPurpose(disease_ids=frozenset({T2D})))
    assert result is Verdict.APPROVE
    assert f"DS (DUO:0000007) allows research on {T2D}" in why


def test_other_disease_term_under_ds_needs_a_reviewer() -> None:
    result, why = verdict(terms("DS", diseases=(T2D,)),
                          ResearchPurpose(disease_ids=frozenset({CANCER})))
    assert result is Verdict.ABSTAIN
    assert f"no disease ontology here to tell whether {CANCER} falls under {T2D}" in why


def test_ds_refuses_a_purpose_that_is_not_disease_specific() -> None:
    result, why = verdict(terms("DS", diseases=(T2D,)), ResearchPurpose(health_medical=True))
    assert result is Verdict.DENY
    assert f"limits use to research on {T2D}; the purpose is not disease-specific" in why


def test_ds_without_a_disease_term_needs_a_reviewer() -> None:
    result, why = verdict(terms("DS"), ResearchPurpose(disease_ids=frozenset({T2D})))
    assert result is Verdict.ABSTAIN
    assert "the dataset names no disease term" in why


def test_hmb_purpose_is_met_by_hmb_and_gru() -> None:
    purpose = ResearchPurpose(health_medical=True)
    assert verdict(terms("HMB"), purpose)[0] is Verdict.APPROVE
    assert verdict(terms("GRU"), purpose)[0] is Verdict.APPROVE


def test_hmb_refuses_research_that_is_not_health_or_medical() -> None:
    result, why = verdict(terms("HMB"), ResearchPurpose())
    assert result is Verdict.DENY
    assert ("HMB (DUO:0000006) limits use to health/medical/biomedical research; the purpose "
            "is general research") in why


def test_population_origins_is_met_by_gru_and_poa() -> None:
    purpose = ResearchPurpose(population_origins=True)
    assert verdict(terms("GRU"), purpose)[0] is Verdict.APPROVE
    result, why = verdict(terms("POA"), purpose)
    assert result is Verdict.APPROVE
    assert "POA (DUO:0000011) allows population origins or ancestry research" in why


def test_population_origins_is_refused_by_hmb() -> None:
    result, why = verdict(terms("HMB"), ResearchPurpose(population_origins=True))
    assert result is Verdict.DENY
    assert "HMB (DUO:0000006) does not allow population origins or ancestry research" in why


def test_poa_refuses_other_research() -> None:
    result, why = verdict(terms("POA"), ResearchPurpose(health_medical=True))
    assert result is Verdict.DENY
    assert "limits use to population origins or ancestry research; the purpose is health" in why


def test_npoa_refuses_population_origins_research() -> None:
    result, why = verdict(terms("GRU", "NPOA"), ResearchPurpose(population_origins=True))
    assert result is Verdict.DENY
    assert "NPOA (DUO:0000044) prohibits population origins or ancestry research" in why


def test_npu_refuses_a_for_profit_organisation() -> None:
    result, why = verdict(terms("GRU", "NPU"), ResearchPurpose(for_profit_organisation=True))
    assert result is Verdict.DENY
    assert ("NPU (DUO:0000045) limits use to not-for-profit organisations; the applicant's "
            "organisation is for-profit") in why
    assert verdict(terms("GRU", "NPU"), ResearchPurpose())[0] is Verdict.APPROVE


def test_ncu_refuses_commercial_use() -> None:
    result, why = verdict(terms("GRU", "NCU"), ResearchPurpose(commercial_use=True))
    assert result is Verdict.DENY
    assert "NCU (DUO:0000046) limits use to non-commercial use" in why
    assert verdict(terms("GRU", "NCU"), ResearchPurpose(for_profit_organisation=True)
                   )[0] is Verdict.APPROVE


def test_npuncu_refuses_both_for_profit_and_commercial() -> None:
    for purpose in (ResearchPurpose(commercial_use=True),
                    ResearchPurpose(for_profit_organisation=True)):
        result, why = verdict(terms("GRU", "NPUNCU"), purpose)
        assert result is Verdict.DENY
        assert "NPUNCU (DUO:0000018)" in why


def test_nmds_refuses_methods_development() -> None:
    result, why = verdict(terms("HMB", "NMDS"),
                          ResearchPurpose(health_medical=True, methods_development=True))
    assert result is Verdict.DENY
    assert "NMDS (DUO:0000015) prohibits methods development research" in why


def test_nmds_allows_methods_development_within_the_datasets_disease() -> None:
    result, why = verdict(terms("DS", "NMDS", diseases=(T2D,)),
                          ResearchPurpose(disease_ids=frozenset({T2D}), methods_development=True))
    assert result is Verdict.APPROVE
    assert "NMDS (DUO:0000015) allows methods development only within the dataset's" in why


@pytest.mark.parametrize(("shorthand", "check"), [
    ("IRB", "documentation of local IRB/ERB approval"),
    ("GS", "use within the permitted geographic region"),
    ("PUB", "an agreement to publish the results"),
    ("COL", "a collaboration with the primary study investigators"),
    ("MOR", "an agreement not to publish before the moratorium ends"),
    ("US", "that the users are approved users"),
    ("PS", "that the use is within the approved project"),
    ("IS", "that the use is within an approved institution"),
    ("TS", "that the use fits the time limit"),
    ("RTN", "an agreement to return derived data to the resource"),
    ("RS", "research-specific restriction"),
    ("GSO", "that the study is genetic"),
])
def test_modifiers_the_purpose_cannot_show_need_manual_review(shorthand: str, check: str
                                                              ) -> None:
    result, why = verdict(terms("GRU", shorthand), ResearchPurpose(health_medical=True))
    assert result is Verdict.ABSTAIN
    assert f"{shorthand} ({code_for_shorthand(shorthand)}) needs manual review" in why
    assert check in why


def test_a_denial_outweighs_a_manual_review() -> None:
    result, why = verdict(terms("GRU", "IRB", "NCU"), ResearchPurpose(commercial_use=True))
    assert result is Verdict.DENY
    assert "NCU" in why and "IRB" in why


def test_no_permission_code_needs_a_reviewer() -> None:
    result, why = verdict(terms(), ResearchPurpose(health_medical=True))
    assert result is Verdict.ABSTAIN
    assert "records no DUO data-use permission" in why


def test_an_unknown_code_needs_a_reviewer() -> None:
    dataset = DatasetTerms(1, "x", frozenset({"DUO:0000042", "DUO:9999999"}))
    result, why = verdict(dataset, ResearchPurpose())
    assert result is Verdict.ABSTAIN
    assert "DUO:9999999 is not a DUO permission or modifier this match knows" in why


def test_nres_allows_anything() -> None:
    purpose = ResearchPurpose(commercial_use=True, for_profit_organisation=True,
                              population_origins=True, methods_development=True)
    result, why = verdict(terms("NRES"), purpose)
    assert result is Verdict.APPROVE
    assert "NRES (DUO:0000004) allows any research purpose" in why


def test_match_request_answers_for_each_dataset_in_order() -> None:
    purpose = ResearchPurpose(health_medical=True)
    found = match_request([DatasetTerms(7, "gru", frozenset({"DUO:0000042"})),
                           DatasetTerms(3, "poa", frozenset({"DUO:0000011"}))], purpose)
    assert [(m.dataset_id, m.verdict) for m in found] == [(7, Verdict.APPROVE),
                                                         (3, Verdict.DENY)]


@dataclass
class FakeRequest:
    purpose_disease_ids: list[str] | None = field(default_factory=lambda: [T2D])
    purpose_health_medical: bool | None = True
    purpose_methods_development: bool | None = False
    purpose_population_origins: bool | None = None
    purpose_commercial_use: bool | None = False
    purpose_for_profit_organisation: bool | None = True


def test_purpose_is_read_from_the_request_columns() -> None:
    assert ResearchPurpose.of(FakeRequest()) == ResearchPurpose(
        disease_ids=frozenset({T2D}), health_medical=True, for_profit_organisation=True)


def test_partial_renders_each_verdict_and_reason() -> None:
    app = Flask(__name__, template_folder="../../access/requests/templates")
    matches = [DatasetMatch(1, "GRU consent group", Verdict.APPROVE, ("GRU allows <all>.",)),
               DatasetMatch(2, "DS consent group", Verdict.ABSTAIN, ("Needs a person.",))]
    with app.app_context():
        html = render_template("requests/_duo_match.html", matches=matches)
    assert "GRU consent group" in html and "APPROVE" in html and "ABSTAIN" in html
    assert "GRU allows &lt;all&gt;." in html  # escaped: reasons carry user-entered terms
    assert "not a decision" in html
