"""Committees at work: votes, conflicts of interest, and each chair's decision on their part.

A request's datasets may be governed by several committees; each committee's chair
decides that committee's part (approve with a period, reject with a reason) and
``workflow.combined_state`` turns the parts into the request's state: under review until
every part is decided, approved if any part is (grants only for approved parts), rejected
if all are. A chair returning the request with questions returns all of it at once; after
resubmission every part is decided afresh, in a new round.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Exists, select
from sqlalchemy.orm import Session

from access.grants import open_grant
from access.identity.actor import Actor
from access.identity.models import Role
from access.models import Committee, CommitteeMembership
from access.requests.models import (
    AccessRequest,
    CommitteeDecision,
    ConflictDeclaration,
    RequestedDataset,
    RequestQuestion,
    Vote,
)
from access.requests.moves import Standing, apply_move, check_move, committees_of, expire_lapsed
from access.requests.notices import Notices
from access.requests.workflow import PartDecision, RequestAction, RequestState, combined_state
from audit.log.actions import AuditAction
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, RefusalNote

VOTES = ("approve", "reject", "abstain")


def vote_on_request(
    session: Session, actor: Actor, request_id: int, *, vote: str, rationale: str,
    committee_id: int | None = None, now: datetime,
) -> AccessRequest:
    """A member's vote on their committee's part; voting again replaces their vote."""
    request, standing = check_move(session, actor, request_id, RequestAction.VOTE, now)
    committee = _one_committee(standing.member_of, committee_id, "sit on")
    _require_undecided(session, request, committee)
    voter = actor.require_user().id
    existing = session.scalar(select(Vote).where(
        Vote.request_id == request.id, Vote.committee_id == committee,
        Vote.review_round == request.review_round, Vote.voter_id == voter))
    if existing is None:
        session.add(Vote(request_id=request.id, committee_id=committee, voter_id=voter,
                         review_round=request.review_round, vote=vote, rationale=rationale,
                         cast_at=now))
    else:
        existing.vote, existing.rationale, existing.cast_at = vote, rationale, now
    return apply_move(session, actor, request, RequestAction.VOTE, now, details={
        "committee_id": committee, "vote": vote, "rationale": rationale,
        "replaces_earlier_vote": existing is not None})


def declare_conflict(
    session: Session, actor: Actor, request_id: int, *, reason: str, now: datetime
) -> AccessRequest:
    """From now on the member neither votes nor decides on this request."""
    request, _ = check_move(session, actor, request_id, RequestAction.DECLARE_CONFLICT, now)
    session.add(ConflictDeclaration(request_id=request.id, user_id=actor.require_user().id,
                                    reason=reason, declared_at=now))
    return apply_move(session, actor, request, RequestAction.DECLARE_CONFLICT, now,
                      details={"reason": reason})


def approve_request(
    session: Session, actor: Actor, request_id: int, *, reason: str, days: int | None = None,
    committee_id: int | None = None, now: datetime, notices: Notices | None = None,
) -> AccessRequest:
    """Approve the chair's part(s) for ``days`` (default: the committee's approval period)."""
    return _decide(session, actor, request_id, RequestAction.APPROVE, PartDecision.APPROVED,
                   reason=reason, days=days, committee_id=committee_id, now=now,
                   notices=notices)


def reject_request(
    session: Session, actor: Actor, request_id: int, *, reason: str,
    committee_id: int | None = None, now: datetime, notices: Notices | None = None,
) -> AccessRequest:
    return _decide(session, actor, request_id, RequestAction.REJECT, PartDecision.REJECTED,
                   reason=reason, days=None, committee_id=committee_id, now=now,
                   notices=notices)


def return_request(
    session: Session, actor: Actor, request_id: int, *, questions: list[str],
    committee_id: int | None = None, now: datetime, notices: Notices | None = None,
) -> AccessRequest:
    """Back to the applicant with questions they answer before resubmitting."""
    request, standing = check_move(session, actor, request_id, RequestAction.RETURN, now)
    committee = _one_committee(standing.chair_of, committee_id, "chair", pick_first=True)
    asked = [RequestQuestion(request_id=request.id, review_round=request.review_round,
                             committee_id=committee, asked_by_id=actor.require_user().id,
                             asked_at=now, question=text) for text in questions]
    session.add_all(asked)
    session.flush()
    moved = apply_move(session, actor, request, RequestAction.RETURN, now, details={
        "committee_id": committee, "question_ids": [q.id for q in asked]})
    if notices is not None:
        notices.tell_next_party(session, moved, now)
    return moved


def part_decisions(session: Session, request: AccessRequest) -> dict[int, CommitteeDecision]:
    """This round's decision of each committee that has decided, by committee id."""
    return {d.committee_id: d for d in session.scalars(select(CommitteeDecision).where(
        CommitteeDecision.request_id == request.id,
        CommitteeDecision.review_round == request.review_round))}


def votes_of(session: Session, request: AccessRequest) -> list[Vote]:
    return list(session.scalars(select(Vote).where(
        Vote.request_id == request.id, Vote.review_round == request.review_round
    ).order_by(Vote.committee_id, Vote.cast_at)))


def conflicts_of(session: Session, request: AccessRequest) -> list[ConflictDeclaration]:
    return list(session.scalars(select(ConflictDeclaration).where(
        ConflictDeclaration.request_id == request.id).order_by(ConflictDeclaration.id)))


REVIEW_STATES = (RequestState.ENDORSED.value, RequestState.UNDER_REVIEW.value)


def review_queue(session: Session, actor: Actor) -> list[AccessRequest]:
    """Requests waiting for a committee the actor sits on, oldest submission first.

    Every signed-in page's header asks this (the "my work" count), mostly of researchers on
    no committee: whether the actor sits on any is asked first, in the same statement and
    of nothing outside it, so PostgreSQL checks it once (a one-time filter) and for them
    never probes the requests in review (2.9 ms at benchmarks/scale.py's shape)."""
    user = actor.require_user()
    seated = select(CommitteeMembership.id).where(CommitteeMembership.user_id == user.id)
    return list(session.scalars(
        select(AccessRequest)
        .where(
            seated.exists(),
            AccessRequest.state.in_(REVIEW_STATES),
            AccessRequest.applicant_id != user.id,
            _has_part(CommitteeMembership.user_id == user.id,
                      RequestedDataset.committee_id == CommitteeMembership.committee_id),
        )
        .order_by(AccessRequest.submitted_at, AccessRequest.id)
    ))


def committee_queue(
    session: Session, actor: Actor, committee_id: int, *, states: Iterable[str] = REVIEW_STATES,
    dataset_id: int | None = None, submitted_from: date | None = None,
    submitted_to: date | None = None, now: datetime | None = None,
) -> list[AccessRequest]:
    """One committee's requests, filtered; for its members (and admins, auditors).

    With ``now``, approved requests whose grants have all ended show (and are) expired.
    """
    user = actor.require_user()
    if session.get(Committee, committee_id) is None:
        raise NotFound(f"No committee {committee_id}.")
    member = session.scalar(select(CommitteeMembership.id).where(
        CommitteeMembership.committee_id == committee_id, CommitteeMembership.user_id == user.id))
    if member is None and not (actor.has_role(Role.ADMIN) or actor.has_role(Role.AUDITOR)):
        raise Forbidden("Only the committee's members see its queue.", refusal=RefusalNote(
            AuditAction.REQUEST_REFUSED, "committee", str(committee_id),
            {"action": "queue", "reason": "not_a_member"}))
    ours = [RequestedDataset.committee_id == committee_id]
    if dataset_id is not None:
        ours.append(RequestedDataset.dataset_id == dataset_id)
    query = select(AccessRequest).where(
        _has_part(*ours), AccessRequest.endorsed_at.is_not(None),
        AccessRequest.state.in_(list(states)))
    if submitted_from is not None:
        query = query.where(AccessRequest.submitted_at >= _day_start(submitted_from))
    if submitted_to is not None:
        query = query.where(AccessRequest.submitted_at < _day_start(submitted_to)
                            + timedelta(days=1))
    found = list(session.scalars(query.order_by(AccessRequest.submitted_at, AccessRequest.id)))
    if now is not None:
        expire_lapsed(session, found, now)
    return found


def _has_part(*conditions: ColumnElement[bool]) -> Exists:
    """Whether the request has a part meeting ``conditions``, asked of each request the
    states select by its id (ix_requested_datasets_request_committee), so the cost stays
    that of the requests in review whatever a committee's history. OFFSET 0 keeps PostgreSQL
    from turning the question into a join, which it plans by gathering every part the
    committee ever had (10,020 rows at full size in benchmarks/scale.py)."""
    return (select(RequestedDataset.id)
            .where(RequestedDataset.request_id == AccessRequest.id, *conditions)
            .offset(0).exists())


def _decide(
    session: Session, actor: Actor, request_id: int, action: RequestAction,
    decision: PartDecision, *, reason: str, days: int | None, committee_id: int | None,
    now: datetime, notices: Notices | None,
) -> AccessRequest:
    request, standing = check_move(session, actor, request_id, action, now)
    decided = part_decisions(session, request)
    mine = _chaired_parts(standing, committee_id)
    undecided = sorted(mine - set(decided))
    if not undecided:
        raise Conflict(
            "Your committee's part of this request is already decided.",
            details={"state": request.state, "action": action.value,
                     "committee_ids": sorted(mine)})
    user = actor.require_user()
    for committee in undecided:
        period = None
        if decision is PartDecision.APPROVED:
            governing = session.get(Committee, committee)
            period = days or (governing.default_approval_days if governing else 365)
        decided[committee] = CommitteeDecision(
            request_id=request.id, committee_id=committee, review_round=request.review_round,
            decision=decision.value, reason=reason, days=period, decided_by_id=user.id,
            decided_at=now)
        session.add(decided[committee])
    outcome = combined_state([
        PartDecision(decided[c].decision) if c in decided else None
        for c in sorted(committees_of(request))])
    if outcome is not RequestState.UNDER_REVIEW:
        request.decided_at, request.decided_by_id, request.decision_reason = now, user.id, reason
    moved = apply_move(session, actor, request, action, now, chosen=outcome, details={
        "committee_ids": undecided, "reason": reason,
        "days": decided[undecided[0]].days})
    if outcome is RequestState.APPROVED:
        _open_grants(session, actor, request, decided, now)
    if notices is not None:  # only a whole decision tells the applicant
        notices.tell_next_party(session, moved, now)
    return moved


def _open_grants(session: Session, actor: Actor, request: AccessRequest,
                 decided: dict[int, CommitteeDecision], now: datetime) -> None:
    approved = [d for d in decided.values() if d.decision == PartDecision.APPROVED]
    request.approved_days = max(d.days or 0 for d in approved)
    for terms in grants_for_approval(request, decided, now):
        open_grant(session, actor.audit(), user_id=terms.user_id, dataset_id=terms.dataset_id,
                   request_id=request.id, starts_at=terms.starts_at, ends_at=terms.ends_at)


@dataclass(frozen=True)
class GrantTerms:
    user_id: int
    dataset_id: int
    starts_at: datetime
    ends_at: datetime


def grants_for_approval(request: AccessRequest, decided: Mapping[int, CommitteeDecision],
                        now: datetime) -> list[GrantTerms]:
    """The grants an approval opens: each dataset whose committee approved its part, for
    that part's period, to the applicant and every collaborator who has accepted; none for
    a part rejected or undecided."""
    approved = {c: d for c, d in decided.items() if d.decision == PartDecision.APPROVED}
    holders = [request.applicant_id] + [c.user_id for c in request.collaborators
                                        if c.accepted_at is not None]
    return [GrantTerms(holder, requested.dataset_id, now, now + timedelta(days=part.days))
            for requested in request.datasets
            if (part := approved.get(requested.committee_id)) is not None
            and part.days is not None
            for holder in holders]


def _chaired_parts(standing: Standing, committee_id: int | None) -> set[int]:
    if committee_id is None:
        return set(standing.chair_of)
    if committee_id not in standing.chair_of:
        raise Forbidden(f"You do not chair committee {committee_id} for this request.",
                        refusal=_not_on_committee(committee_id, "chair"))
    return {committee_id}


def _one_committee(mine: frozenset[int], committee_id: int | None, verb: str,
                   *, pick_first: bool = False) -> int:
    if committee_id is not None:
        if committee_id not in mine:
            raise Forbidden(f"You do not {verb} committee {committee_id} for this request.",
                            refusal=_not_on_committee(committee_id, verb))
        return committee_id
    if len(mine) > 1 and not pick_first:
        raise InvalidInput("You sit on several committees of this request: name committee_id.",
                           details={"committee_ids": sorted(mine)})
    return min(mine)


def _not_on_committee(committee_id: int, verb: str) -> RefusalNote:
    return RefusalNote(AuditAction.REQUEST_REFUSED, "committee", str(committee_id),
                       {"reason": f"does_not_{verb.replace(' ', '_')}"})


def _require_undecided(session: Session, request: AccessRequest, committee: int) -> None:
    if committee in part_decisions(session, request):
        raise Conflict("Your committee's part of this request is already decided.",
                       details={"state": request.state, "action": "vote",
                                "committee_id": committee})


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)
