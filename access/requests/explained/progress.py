"""Where a request stands, in the words its reader needs: the five stages it passes (filed,
signing official, committee, decision, access), who holds it now and what they must do.

Pure: the page hands in the request's state and the few facts the sentences name, so every
state's wording is pinned by a unit test without a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from access.requests.workflow import RequestState

S = RequestState


class StageStatus(StrEnum):
    DONE = "done"
    CURRENT = "current"
    WAITING = "waiting"  # not reached yet
    STOPPED = "stopped"  # where the request ended before access
    SKIPPED = "skipped"  # never to be reached


STATUS_WORDS = {
    StageStatus.DONE: "done",
    StageStatus.CURRENT: "now",
    StageStatus.WAITING: "to come",
    StageStatus.STOPPED: "stopped here",
    StageStatus.SKIPPED: "not reached",
}


@dataclass(frozen=True)
class Stage:
    name: str
    status: StageStatus
    note: str = ""

    @property
    def words(self) -> str:
        return STATUS_WORDS[self.status] + (f": {self.note}" if self.note else "")


@dataclass(frozen=True)
class Progress:
    label: str  # the state in plain words
    stages: list[Stage]
    holder: str | None  # who must act now; None once nobody must
    todo: str  # what they must do (or why nobody must)
    yours: bool  # whether the reader is the holder


@dataclass(frozen=True)
class Facts:
    """What the sentences name; ``reader_is`` is the reader's part in the request."""

    applicant: str
    institution: str | None
    committees: list[str]
    parts_decided: int = 0
    access_until: date | None = None
    reader_is: str = ""  # "applicant", "signing official", "committee" or ""


LABELS = {
    S.DRAFT: "Draft, not yet submitted",
    S.SUBMITTED: "With the signing official",
    S.ENDORSED: "With the committee",
    S.UNDER_REVIEW: "With the committee",
    S.RETURNED: "Returned to the applicant",
    S.APPROVED: "Approved",
    S.REJECTED: "Rejected",
    S.WITHDRAWN: "Withdrawn",
    S.EXPIRED: "Approval period over",
    S.REVOKED: "Access revoked",
    S.CLOSED: "Closed out",
}
STAGE_NAMES = ("Filed", "Signing official", "Committee review", "Decision", "Access")


def state_label(state: str) -> str:
    return LABELS[RequestState(state)]


def progress_of(state: str, facts: Facts) -> Progress:
    current = RequestState(state)
    statuses, notes = _stages(current, facts)
    stages = [
        Stage(name, status, notes.get(name, ""))
        for name, status in zip(STAGE_NAMES, statuses, strict=True)
    ]
    holder, todo, party = _next_step(current, facts)
    return Progress(
        LABELS[current], stages, holder, todo, yours=bool(party) and party == facts.reader_is
    )


def _stages(state: RequestState, facts: Facts) -> tuple[list[StageStatus], dict[str, str]]:
    D, C, W, X, K = (
        StageStatus.DONE,
        StageStatus.CURRENT,
        StageStatus.WAITING,
        StageStatus.STOPPED,
        StageStatus.SKIPPED,
    )
    until = f"until {facts.access_until:%d %b %Y}" if facts.access_until else ""
    table: dict[RequestState, tuple[list[StageStatus], dict[str, str]]] = {
        S.DRAFT: ([C, W, W, W, W], {"Filed": "draft"}),
        S.SUBMITTED: ([D, C, W, W, W], {}),
        S.RETURNED: ([C, W, W, W, W], {"Filed": "back with the applicant"}),
        S.ENDORSED: ([D, D, C, W, W], {}),
        S.UNDER_REVIEW: ([D, D, C, W, W], {}),
        S.APPROVED: ([D, D, D, D, C], {"Decision": "approved", "Access": until}),
        S.REJECTED: ([D, D, D, X, K], {"Decision": "rejected"}),
        S.WITHDRAWN: ([X, K, K, K, K], {"Filed": "withdrawn"}),
        S.EXPIRED: ([D, D, D, D, X], {"Decision": "approved", "Access": "expired"}),
        S.REVOKED: ([D, D, D, D, X], {"Decision": "approved", "Access": "revoked"}),
        S.CLOSED: ([D, D, D, D, D], {"Decision": "approved", "Access": "closed out"}),
    }
    statuses, notes = table[state]
    if state is S.UNDER_REVIEW and len(facts.committees) > 1:
        notes = {
            "Committee review": f"{facts.parts_decided} of {len(facts.committees)} "
            "committees decided"
        }
    return statuses, notes


def _next_step(state: RequestState, facts: Facts) -> tuple[str | None, str, str]:
    """(who holds the request, what they must do, which party that is)."""
    official = (
        "the signing official of " + facts.institution
        if facts.institution
        else "a signing official"
    )
    committees = " and ".join(facts.committees) or "the data-access committee"
    applicant = f"{facts.applicant} (the applicant)"
    steps: dict[RequestState, tuple[str | None, str, str]] = {
        S.DRAFT: (
            applicant,
            "Complete the form and submit the request. Nobody else sees it until then.",
            "applicant",
        ),
        S.SUBMITTED: (
            official,
            "Endorse the request, vouching for the applicant, or decline "
            "it with a reason the applicant can answer.",
            "signing official",
        ),
        S.RETURNED: (
            applicant,
            "Answer the questions below, revise the request if needed, then submit it again.",
            "applicant",
        ),
        S.ENDORSED: (
            committees,
            "Members read the request and vote; the chair then approves "
            "it, rejects it or returns it with questions.",
            "committee",
        ),
        S.APPROVED: (
            applicant,
            "Accept each dataset's data-use agreement, then download the "
            "files. Close out the project when the work is done.",
            "applicant",
        ),
        S.REJECTED: (
            None,
            "Nothing more: the committee's reason is below. A new request may be filed.",
            "",
        ),
        S.WITHDRAWN: (None, "Nothing more: the applicant withdrew the request.", ""),
        S.EXPIRED: (
            applicant,
            "The approval period is over. Renew the request with a "
            "progress report, or close out the project.",
            "applicant",
        ),
        S.REVOKED: (None, "Nothing more: the committee revoked access; the reason is below.", ""),
        S.CLOSED: (None, "Nothing more: the project is closed out and access has ended.", ""),
    }
    steps[S.UNDER_REVIEW] = steps[S.ENDORSED]
    return steps[state]
