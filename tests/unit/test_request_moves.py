"""Who may see and move a request, decided from plain objects (no database): the rules of
requests/moves.py apart from the queries that gather their facts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from access.errors import IllegalTransition
from access.identity.actor import Actor
from access.identity.models import Role, RoleAssignment, User
from access.requests.models import AccessRequest, RequestCollaborator, RequestedDataset
from access.requests.moves import Standing, may_see, require_move, standing_from
from access.requests.workflow import RequestAction, RequestState
from core.errors import Forbidden

NOW = datetime(2030, 1, 1, tzinfo=UTC)
APPLICANT, COLLABORATOR, OFFICIAL, MEMBER = 1, 2, 3, 4


def person(user_id: int, *roles: Role) -> Actor:
    user = User(id=user_id, issuer="https://idp.example", subject=str(user_id))
    user.roles = [RoleAssignment(role=role.value) for role in roles]
    return Actor(user=user)


def a_request(state: RequestState = RequestState.DRAFT, *, submitted: bool = False,
              endorsed: bool = False) -> AccessRequest:
    request = AccessRequest(id=7, applicant_id=APPLICANT, state=state.value,
                            submitted_at=NOW if submitted else None,
                            endorsed_at=NOW if endorsed else None)
    request.collaborators = [RequestCollaborator(user_id=COLLABORATOR)]
    request.datasets = [RequestedDataset(dataset_id=10, committee_id=100),
                        RequestedDataset(dataset_id=11, committee_id=200)]
    return request


def test_the_applicant_and_collaborators_are_nothing_else_to_their_request() -> None:
    """Nobody endorses, votes on or decides a request they would benefit from."""
    request = a_request()
    for user_id in (APPLICANT, COLLABORATOR):
        standing = standing_from(user_id, request, memberships=[(100, True)],
                                 signing_official=True)
        assert not (standing.signing_official or standing.member_of or standing.chair_of)
    assert standing_from(APPLICANT, request).applicant
    assert standing_from(COLLABORATOR, request).collaborator


def test_seats_on_the_requests_committees_make_members_and_chairs() -> None:
    standing = standing_from(MEMBER, a_request(), memberships=[(100, False), (200, True)])
    assert standing.member_of == {100, 200} and standing.chair_of == {200}


def test_a_conflict_counts_only_for_someone_with_a_seat() -> None:
    assert not standing_from(OFFICIAL, a_request(), conflicted=True).conflicted
    assert standing_from(MEMBER, a_request(), memberships=[(100, False)],
                         conflicted=True).conflicted


@pytest.mark.parametrize("submitted, endorsed, official_sees, member_sees", [
    (False, False, False, False), (True, False, True, False), (True, True, True, True)])
def test_officials_see_a_request_once_submitted_and_committees_once_endorsed(
    submitted: bool, endorsed: bool, official_sees: bool, member_sees: bool
) -> None:
    request = a_request(submitted=submitted, endorsed=endorsed)
    assert may_see(person(OFFICIAL), request, Standing(signing_official=True)) is official_sees
    assert may_see(person(MEMBER), request, Standing(member_of=frozenset({100}))) is member_sees


@pytest.mark.parametrize("role", [Role.ADMIN, Role.AUDITOR])
def test_admins_and_auditors_see_every_request_even_a_draft(role: Role) -> None:
    assert may_see(person(9, role), a_request(), Standing())
    assert not may_see(person(9), a_request(), Standing())


def test_a_move_by_the_wrong_party_is_403_and_recorded() -> None:
    with pytest.raises(Forbidden) as refused:
        require_move(Standing(applicant=True), a_request(RequestState.SUBMITTED),
                     RequestAction.ENDORSE)
    assert "signing official" in refused.value.message
    assert refused.value.refusal is not None
    assert refused.value.refusal.details == {"action": "endorse", "state": "submitted"}


def test_a_declared_conflict_says_so_when_the_member_tries_to_vote() -> None:
    conflicted = Standing(member_of=frozenset({100}), conflicted=True)
    with pytest.raises(Forbidden, match="conflict of interest"):
        require_move(conflicted, a_request(RequestState.UNDER_REVIEW), RequestAction.VOTE)


def test_the_right_party_in_the_wrong_state_is_409_naming_both() -> None:
    with pytest.raises(IllegalTransition) as refused:
        require_move(Standing(applicant=True), a_request(RequestState.APPROVED),
                     RequestAction.SUBMIT)
    assert refused.value.status == 409
    assert "approved" in refused.value.message and "submit" in refused.value.message


def test_the_right_party_in_a_state_that_allows_it_may_move() -> None:
    require_move(Standing(member_of=frozenset({100})), a_request(RequestState.ENDORSED),
                 RequestAction.VOTE)
    require_move(Standing(applicant=True), a_request(RequestState.RETURNED),
                 RequestAction.SUBMIT)
