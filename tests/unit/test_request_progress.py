"""The status tracker's words for every state: who holds the request and what they must do."""

from __future__ import annotations

from datetime import date

import pytest

from access.requests.explained.progress import Facts, StageStatus, progress_of
from access.requests.workflow import RequestState

FACTS = Facts(
    applicant="Riley Researcher",
    institution="Demo University",
    committees=["Demo DAC"],
    reader_is="applicant",
)


def statuses(state: str, facts: Facts = FACTS) -> list[str]:
    return [stage.status.value for stage in progress_of(state, facts).stages]


def test_a_submitted_request_waits_for_its_institutions_signing_official() -> None:
    progress = progress_of("submitted", FACTS)
    assert progress.holder == "the signing official of Demo University"
    assert progress.todo.startswith("Endorse the request")
    assert statuses("submitted") == ["done", "current", "waiting", "waiting", "waiting"]
    assert not progress.yours  # the applicant reads it: not theirs to act on


def test_a_returned_request_is_the_applicants_to_answer() -> None:
    progress = progress_of("returned", FACTS)
    assert progress.yours and progress.holder == "Riley Researcher (the applicant)"
    assert "Answer the questions" in progress.todo
    assert progress.stages[0].words == "now: back with the applicant"


def test_under_review_names_the_committees_and_how_many_decided() -> None:
    facts = Facts(
        applicant="R",
        institution=None,
        committees=["A DAC", "B DAC"],
        parts_decided=1,
        reader_is="committee",
    )
    progress = progress_of("under_review", facts)
    assert progress.holder == "A DAC and B DAC" and progress.yours
    assert progress.stages[2].words == "now: 1 of 2 committees decided"


def test_approved_says_until_when_and_what_to_do_next() -> None:
    facts = Facts(applicant="R", institution="U", committees=["D"], access_until=date(2027, 3, 1))
    progress = progress_of("approved", facts)
    assert progress.stages[4].words == "now: until 01 Mar 2027"
    assert "data-use agreement" in progress.todo


@pytest.mark.parametrize("state", ["rejected", "withdrawn", "revoked", "closed"])
def test_a_final_request_is_nobodys_to_act_on(state: str) -> None:
    progress = progress_of(state, FACTS)
    assert progress.holder is None and not progress.yours
    assert progress.todo.startswith("Nothing more")
    assert StageStatus.CURRENT.value not in statuses(state)


def test_every_state_has_a_label_and_five_stages() -> None:
    for state in RequestState:
        progress = progress_of(state.value, FACTS)
        assert progress.label and len(progress.stages) == 5
