"""The access-request state machine: one pure table of who may move a request where.

Every state of the full workflow is named here; transitions are added as the parts of the
workflow that use them are built. Anything not in the table is refused with a 409.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from access.errors import IllegalTransition


class RequestState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ENDORSED = "endorsed"
    UNDER_REVIEW = "under_review"
    RETURNED = "returned"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    REVOKED = "revoked"
    CLOSED = "closed"


class RequestAction(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    WITHDRAW = "withdraw"


class Party(StrEnum):
    """Who, relative to the request, may take an action."""

    APPLICANT = "applicant"
    CHAIR = "chair"  # chair of the committee governing every dataset of the request


@dataclass(frozen=True)
class Transition:
    target: RequestState
    party: Party


TRANSITIONS: dict[tuple[RequestState, RequestAction], Transition] = {
    (RequestState.DRAFT, RequestAction.SUBMIT): Transition(RequestState.SUBMITTED, Party.APPLICANT),
    (RequestState.DRAFT, RequestAction.WITHDRAW): Transition(
        RequestState.WITHDRAWN, Party.APPLICANT
    ),
    (RequestState.SUBMITTED, RequestAction.WITHDRAW): Transition(
        RequestState.WITHDRAWN, Party.APPLICANT
    ),
    (RequestState.SUBMITTED, RequestAction.APPROVE): Transition(
        RequestState.APPROVED, Party.CHAIR
    ),
    (RequestState.SUBMITTED, RequestAction.REJECT): Transition(RequestState.REJECTED, Party.CHAIR),
}


def party_for(action: RequestAction) -> Party:
    """The one party an action belongs to, whatever the state (checked before the state)."""
    parties = {t.party for (_, act), t in TRANSITIONS.items() if act == action}
    (party,) = parties
    return party


def next_state(state: RequestState, action: RequestAction) -> RequestState:
    transition = TRANSITIONS.get((state, action))
    if transition is None:
        raise IllegalTransition(
            f"A request that is {state.value} cannot be {_past(action)}.",
            details={"state": state.value, "action": action.value},
        )
    return transition.target


def allowed_actions(state: RequestState) -> list[RequestAction]:
    return [action for (st, action) in TRANSITIONS if st == state]


def _past(action: RequestAction) -> str:
    return {"submit": "submitted", "approve": "approved", "reject": "rejected",
            "withdraw": "withdrawn"}[action.value]
