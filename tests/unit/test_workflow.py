"""The request state machine as a pure table, and how committee parts combine."""

from __future__ import annotations

import pytest

from access.errors import IllegalTransition
from access.requests.workflow import (
    FINAL_STATES,
    TRANSITIONS,
    PartDecision,
    Party,
    RequestAction,
    RequestState,
    allowed_actions,
    combined_state,
    next_state,
    party_for,
)

S, A = RequestState, RequestAction

# The whole table written out by hand: a change to workflow.py must change this too.
EXPECTED = {
    (S.DRAFT, A.SUBMIT): S.SUBMITTED, (S.RETURNED, A.SUBMIT): S.SUBMITTED,
    (S.DRAFT, A.REVISE): S.DRAFT, (S.RETURNED, A.REVISE): S.RETURNED,
    (S.RETURNED, A.ANSWER): S.RETURNED,
    (S.DRAFT, A.WITHDRAW): S.WITHDRAWN, (S.SUBMITTED, A.WITHDRAW): S.WITHDRAWN,
    (S.ENDORSED, A.WITHDRAW): S.WITHDRAWN, (S.UNDER_REVIEW, A.WITHDRAW): S.WITHDRAWN,
    (S.RETURNED, A.WITHDRAW): S.WITHDRAWN,
    (S.SUBMITTED, A.ENDORSE): S.ENDORSED, (S.SUBMITTED, A.DECLINE): S.RETURNED,
    (S.ENDORSED, A.VOTE): S.UNDER_REVIEW, (S.UNDER_REVIEW, A.VOTE): S.UNDER_REVIEW,
    (S.ENDORSED, A.DECLARE_CONFLICT): S.ENDORSED,
    (S.UNDER_REVIEW, A.DECLARE_CONFLICT): S.UNDER_REVIEW,
    (S.ENDORSED, A.APPROVE): S.APPROVED, (S.UNDER_REVIEW, A.APPROVE): S.APPROVED,
    (S.ENDORSED, A.REJECT): S.REJECTED, (S.UNDER_REVIEW, A.REJECT): S.REJECTED,
    (S.ENDORSED, A.RETURN): S.RETURNED, (S.UNDER_REVIEW, A.RETURN): S.RETURNED,
    (S.APPROVED, A.REVOKE): S.REVOKED, (S.APPROVED, A.CLOSE): S.CLOSED,
    (S.EXPIRED, A.CLOSE): S.CLOSED, (S.APPROVED, A.EXPIRE): S.EXPIRED,
    (S.APPROVED, A.RENEW): S.APPROVED, (S.EXPIRED, A.RENEW): S.EXPIRED,
    **{(state, A.ACCEPT): state for state in (S.DRAFT, S.SUBMITTED, S.ENDORSED,
                                              S.UNDER_REVIEW, S.RETURNED, S.APPROVED)},
}


def test_table_is_exactly_the_designed_one() -> None:
    assert {key: t.target for key, t in TRANSITIONS.items()} == EXPECTED


@pytest.mark.parametrize(("state", "action"), sorted(EXPECTED))
def test_allowed_moves(state: RequestState, action: RequestAction) -> None:
    assert next_state(state, action) is EXPECTED[(state, action)]


def test_every_other_move_is_refused_naming_state_and_action() -> None:
    refused = 0
    for state in RequestState:
        for action in RequestAction:
            if (state, action) in TRANSITIONS:
                continue
            with pytest.raises(IllegalTransition) as caught:
                next_state(state, action)
            assert caught.value.details == {"state": state.value, "action": action.value}
            assert state.value in caught.value.message
            assert caught.value.status == 409
            refused += 1
    assert refused == len(RequestState) * len(RequestAction) - len(EXPECTED)


def test_final_states_lead_nowhere() -> None:
    for state in FINAL_STATES:
        assert allowed_actions(state) == []


def test_each_action_belongs_to_one_party() -> None:
    expected = {
        A.SUBMIT: Party.APPLICANT, A.REVISE: Party.APPLICANT, A.ANSWER: Party.APPLICANT,
        A.WITHDRAW: Party.APPLICANT, A.CLOSE: Party.APPLICANT, A.RENEW: Party.APPLICANT,
        A.ENDORSE: Party.SIGNING_OFFICIAL, A.DECLINE: Party.SIGNING_OFFICIAL,
        A.VOTE: Party.MEMBER, A.DECLARE_CONFLICT: Party.MEMBER,
        A.APPROVE: Party.CHAIR, A.REJECT: Party.CHAIR, A.RETURN: Party.CHAIR,
        A.REVOKE: Party.CHAIR, A.ACCEPT: Party.COLLABORATOR, A.EXPIRE: Party.SYSTEM,
    }
    assert {action: party_for(action) for action in RequestAction} == expected


def test_a_decision_may_leave_the_request_under_review_until_every_part_is_decided() -> None:
    assert next_state(S.ENDORSED, A.APPROVE, S.UNDER_REVIEW) is S.UNDER_REVIEW
    assert next_state(S.UNDER_REVIEW, A.REJECT, S.APPROVED) is S.APPROVED
    with pytest.raises(ValueError, match="cannot lead to"):
        next_state(S.UNDER_REVIEW, A.APPROVE, S.REJECTED)


@pytest.mark.parametrize(("decisions", "state"), [
    ([None], S.UNDER_REVIEW),
    ([PartDecision.APPROVED, None], S.UNDER_REVIEW),
    ([PartDecision.REJECTED, None], S.UNDER_REVIEW),
    ([PartDecision.APPROVED], S.APPROVED),
    ([PartDecision.APPROVED, PartDecision.REJECTED], S.APPROVED),
    ([PartDecision.REJECTED, PartDecision.REJECTED], S.REJECTED),
    ([], S.UNDER_REVIEW),
])
def test_parts_combine(decisions: list[PartDecision | None], state: RequestState) -> None:
    assert combined_state(decisions) is state
