"""Which grants an approval opens, and why a download without one is refused, decided from
plain objects (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from access.grants import lapse_reason
from access.models import Grant
from access.requests.models import (
    AccessRequest,
    CommitteeDecision,
    RequestCollaborator,
    RequestedDataset,
)
from access.requests.review import GrantTerms, grants_for_approval
from access.requests.workflow import PartDecision

NOW = datetime(2030, 1, 1, tzinfo=UTC)
APPLICANT, ACCEPTED, INVITED = 1, 2, 3


def request_for_two_committees() -> AccessRequest:
    request = AccessRequest(id=7, applicant_id=APPLICANT)
    request.datasets = [RequestedDataset(dataset_id=10, committee_id=100),
                        RequestedDataset(dataset_id=11, committee_id=100),
                        RequestedDataset(dataset_id=20, committee_id=200)]
    request.collaborators = [RequestCollaborator(user_id=ACCEPTED, accepted_at=NOW),
                             RequestCollaborator(user_id=INVITED, accepted_at=None)]
    return request


def decision(committee_id: int, outcome: PartDecision, days: int | None) -> CommitteeDecision:
    return CommitteeDecision(committee_id=committee_id, decision=outcome.value, days=days)


def test_an_approved_part_opens_its_datasets_to_the_applicant_and_accepted_collaborators(
) -> None:
    opened = grants_for_approval(request_for_two_committees(),
                                 {100: decision(100, PartDecision.APPROVED, 30)}, NOW)
    ends = NOW + timedelta(days=30)
    assert opened == [GrantTerms(user, dataset, NOW, ends)
                      for dataset in (10, 11) for user in (APPLICANT, ACCEPTED)]


def test_a_rejected_or_undecided_part_opens_nothing() -> None:
    request = request_for_two_committees()
    assert grants_for_approval(request, {}, NOW) == []
    assert grants_for_approval(request, {200: decision(200, PartDecision.REJECTED, None)},
                               NOW) == []


def test_each_part_runs_for_its_own_committees_period() -> None:
    opened = grants_for_approval(request_for_two_committees(), {
        100: decision(100, PartDecision.APPROVED, 30),
        200: decision(200, PartDecision.APPROVED, 365)}, NOW)
    periods = {terms.dataset_id: terms.ends_at - terms.starts_at for terms in opened}
    assert periods == {10: timedelta(days=30), 11: timedelta(days=30),
                       20: timedelta(days=365)}


def test_a_refused_download_says_whether_a_grant_was_revoked_expired_or_never_held() -> None:
    assert lapse_reason(None) == "no_grant"
    assert lapse_reason(Grant(ends_at=NOW, revoked_at=None)) == "grant_expired"
    assert lapse_reason(Grant(ends_at=NOW + timedelta(days=1), revoked_at=NOW)) \
        == "grant_revoked"
