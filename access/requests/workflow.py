"""The access-request state machine: one pure table of who may move a request where.

``draft -> submitted -> endorsed (signing official) -> under_review -> approved | rejected``,
with ``returned`` (back to the applicant: declined by the signing official, or questions
from a committee chair; answered and resubmitted), ``withdrawn`` (the applicant, before a
decision) and, after approval, ``expired`` (time), ``revoked`` (a chair) or ``closed``
(the applicant's close-out). Some actions keep the state (a vote on a request already under
review, a collaborator accepting, a renewal filed from an approved request): they are in
the table all the same, so every action is checked and audited the same way.

A request may span several committees; each decides its own part. ``approve`` and
``reject`` therefore list every state the request may land in, and ``combined_state``
(pure as well) picks one from the parts' decisions. Anything not in the table is refused
with a 409 naming the state and the action.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
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
    REVISE = "revise"
    ANSWER = "answer"
    WITHDRAW = "withdraw"
    ENDORSE = "endorse"
    DECLINE = "decline"
    VOTE = "vote"
    DECLARE_CONFLICT = "declare-conflict"
    APPROVE = "approve"
    REJECT = "reject"
    RETURN = "return"
    REVOKE = "revoke"
    CLOSE = "close"
    RENEW = "renew"
    ACCEPT = "accept"
    EXPIRE = "expire"


class Party(StrEnum):
    """Who, relative to the request, may take an action."""

    APPLICANT = "applicant"
    COLLABORATOR = "collaborator"  # invited by the applicant
    SIGNING_OFFICIAL = "signing official"  # of the applicant's institution
    MEMBER = "committee member"  # of a committee deciding a part (chairs are members too)
    CHAIR = "committee chair"  # chair of a committee deciding a part
    SYSTEM = "system"  # the service itself (expiry), never a person


class PartDecision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Transition:
    target: RequestState
    party: Party
    # Other states a per-committee decision may leave the request in (see combined_state).
    also: frozenset[RequestState] = field(default_factory=frozenset)


S, A, P = RequestState, RequestAction, Party
_REVIEWING = (S.ENDORSED, S.UNDER_REVIEW)
_OPEN = (S.DRAFT, S.SUBMITTED, S.ENDORSED, S.UNDER_REVIEW, S.RETURNED)


def _build() -> dict[tuple[RequestState, RequestAction], Transition]:
    table: dict[tuple[RequestState, RequestAction], Transition] = {
        (S.DRAFT, A.SUBMIT): Transition(S.SUBMITTED, P.APPLICANT),
        (S.RETURNED, A.SUBMIT): Transition(S.SUBMITTED, P.APPLICANT),
        (S.DRAFT, A.REVISE): Transition(S.DRAFT, P.APPLICANT),
        (S.RETURNED, A.REVISE): Transition(S.RETURNED, P.APPLICANT),
        (S.RETURNED, A.ANSWER): Transition(S.RETURNED, P.APPLICANT),
        (S.SUBMITTED, A.ENDORSE): Transition(S.ENDORSED, P.SIGNING_OFFICIAL),
        # Declining sends the request back with the reason, to answer and resubmit.
        (S.SUBMITTED, A.DECLINE): Transition(S.RETURNED, P.SIGNING_OFFICIAL),
        (S.ENDORSED, A.VOTE): Transition(S.UNDER_REVIEW, P.MEMBER),
        (S.UNDER_REVIEW, A.VOTE): Transition(S.UNDER_REVIEW, P.MEMBER),
        (S.APPROVED, A.REVOKE): Transition(S.REVOKED, P.CHAIR),
        (S.APPROVED, A.CLOSE): Transition(S.CLOSED, P.APPLICANT),
        (S.EXPIRED, A.CLOSE): Transition(S.CLOSED, P.APPLICANT),
        (S.APPROVED, A.EXPIRE): Transition(S.EXPIRED, P.SYSTEM),
        (S.APPROVED, A.RENEW): Transition(S.APPROVED, P.APPLICANT),
        (S.EXPIRED, A.RENEW): Transition(S.EXPIRED, P.APPLICANT),
        (S.APPROVED, A.ACCEPT): Transition(S.APPROVED, P.COLLABORATOR),
    }
    for state in _OPEN:
        table[(state, A.WITHDRAW)] = Transition(S.WITHDRAWN, P.APPLICANT)
        table[(state, A.ACCEPT)] = Transition(state, P.COLLABORATOR)
    for state in _REVIEWING:
        table[(state, A.DECLARE_CONFLICT)] = Transition(state, P.MEMBER)
        table[(state, A.APPROVE)] = Transition(S.APPROVED, P.CHAIR, frozenset({S.UNDER_REVIEW}))
        table[(state, A.REJECT)] = Transition(
            S.REJECTED, P.CHAIR, frozenset({S.UNDER_REVIEW, S.APPROVED}))
        table[(state, A.RETURN)] = Transition(S.RETURNED, P.CHAIR)
    return table


TRANSITIONS: dict[tuple[RequestState, RequestAction], Transition] = _build()

# States no action of a person leads out of (renewal files a new request instead).
FINAL_STATES = frozenset({S.REJECTED, S.WITHDRAWN, S.REVOKED, S.CLOSED})


def party_for(action: RequestAction) -> Party:
    """The one party an action belongs to, whatever the state (checked before the state)."""
    parties = {t.party for (_, act), t in TRANSITIONS.items() if act == action}
    (party,) = parties
    return party


def next_state(
    state: RequestState, action: RequestAction, chosen: RequestState | None = None
) -> RequestState:
    """The state after the action; ``chosen`` picks among a decision's possible outcomes."""
    transition = TRANSITIONS.get((state, action))
    if transition is None:
        raise IllegalTransition(
            f"A request that is {state.value} cannot be {past_tense(action)}.",
            details={"state": state.value, "action": action.value},
        )
    if chosen is None or chosen is transition.target:
        return transition.target
    if chosen not in transition.also:
        raise ValueError(f"{action.value} from {state.value} cannot lead to {chosen.value}")
    return chosen


def allowed_actions(state: RequestState) -> list[RequestAction]:
    return [action for (st, action) in TRANSITIONS if st == state]


def combined_state(decisions: Collection[PartDecision | None]) -> RequestState:
    """One state from the parts' decisions (None: undecided).

    Under review until every committee has decided its part; then approved if any part
    was approved (grants only for the approved parts), rejected if every part was.
    A return by any chair is not a part decision: it returns the whole request at once.
    """
    if not decisions or any(decision is None for decision in decisions):
        return S.UNDER_REVIEW
    if PartDecision.APPROVED in decisions:
        return S.APPROVED
    return S.REJECTED


def past_tense(action: RequestAction) -> str:
    return {
        A.SUBMIT: "submitted", A.REVISE: "revised", A.ANSWER: "answered",
        A.WITHDRAW: "withdrawn", A.ENDORSE: "endorsed", A.DECLINE: "declined",
        A.VOTE: "voted on", A.DECLARE_CONFLICT: "given a conflict declaration",
        A.APPROVE: "approved", A.REJECT: "rejected", A.RETURN: "returned",
        A.REVOKE: "revoked", A.CLOSE: "closed", A.RENEW: "renewed",
        A.ACCEPT: "joined by a collaborator", A.EXPIRE: "expired",
    }[action]
