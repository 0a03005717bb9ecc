"""The request state machine as a pure table."""

from __future__ import annotations

import pytest

from access.errors import IllegalTransition
from access.workflow import (
    TRANSITIONS,
    Party,
    RequestAction,
    RequestState,
    allowed_actions,
    next_state,
    party_for,
)


@pytest.mark.parametrize("state, action, target", [
    (RequestState.DRAFT, RequestAction.SUBMIT, RequestState.SUBMITTED),
    (RequestState.DRAFT, RequestAction.WITHDRAW, RequestState.WITHDRAWN),
    (RequestState.SUBMITTED, RequestAction.WITHDRAW, RequestState.WITHDRAWN),
    (RequestState.SUBMITTED, RequestAction.APPROVE, RequestState.APPROVED),
    (RequestState.SUBMITTED, RequestAction.REJECT, RequestState.REJECTED),
])
def test_allowed_moves(state: RequestState, action: RequestAction,
                       target: RequestState) -> None:
    assert next_state(state, action) is target


def test_every_other_move_is_refused_naming_state_and_action() -> None:
    for state in RequestState:
        for action in RequestAction:
            if (state, action) in TRANSITIONS:
                continue
            with pytest.raises(IllegalTransition) as caught:
                next_state(state, action)
            assert caught.value.details == {"state": state.value, "action": action.value}
            assert state.value in caught.value.message


def test_decisions_are_final() -> None:
    for state in (RequestState.APPROVED, RequestState.REJECTED, RequestState.WITHDRAWN):
        assert allowed_actions(state) == []


def test_each_action_belongs_to_one_party() -> None:
    assert party_for(RequestAction.SUBMIT) is Party.APPLICANT
    assert party_for(RequestAction.WITHDRAW) is Party.APPLICANT
    assert party_for(RequestAction.APPROVE) is Party.CHAIR
    assert party_for(RequestAction.REJECT) is Party.CHAIR
