"""What waits for one person, whatever their roles: the "my work" page and the header's count.

Each list is what only this person can move on: a signing official's requests to endorse, a
member's to vote on, a chair's to decide, an applicant's to submit or answer, a colleague's
invitations to accept, and access that ends soon (to renew or close out in time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from access.models import CommitteeMembership, Grant
from access.ports import DatasetDirectory, DatasetRef
from access.requests.applicant import requests_filed_by, requests_shared_with
from access.requests.endorsement import endorsement_queue
from access.requests.models import AccessRequest, CommitteeDecision, ConflictDeclaration, Vote
from access.requests.moves import committees_of
from access.requests.review import review_queue
from access.requests.workflow import RequestState

ENDING_SOON = timedelta(days=30)
OPEN_FOR_COLLABORATORS = {"draft", "submitted", "endorsed", "under_review", "returned", "approved"}


@dataclass(frozen=True)
class Work:
    to_endorse: list[AccessRequest] = field(default_factory=list)
    to_vote: list[AccessRequest] = field(default_factory=list)
    to_decide: list[AccessRequest] = field(default_factory=list)
    to_answer: list[AccessRequest] = field(default_factory=list)  # returned to me
    to_submit: list[AccessRequest] = field(default_factory=list)  # my drafts
    to_accept: list[AccessRequest] = field(default_factory=list)  # invitations
    agreements: list[DatasetRef] = field(default_factory=list)  # granted, not yet accepted
    ending_soon: list[tuple[AccessRequest, datetime]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(
            len(items)
            for items in (
                self.to_endorse,
                self.to_vote,
                self.to_decide,
                self.to_answer,
                self.to_submit,
                self.to_accept,
                self.agreements,
                self.ending_soon,
            )
        )


def work_for(session: Session, actor: Actor, now: datetime, *, directory: DatasetDirectory) -> Work:
    user = actor.require_user()
    mine = requests_filed_by(session, actor)
    invited = [
        r
        for r in requests_shared_with(session, actor)
        if r.state in OPEN_FOR_COLLABORATORS
        and any(c.user_id == user.id and c.accepted_at is None for c in r.collaborators)
    ]
    to_vote, to_decide = _committee_work(session, user.id, review_queue(session, actor))
    return Work(
        to_endorse=endorsement_queue(session, actor),
        to_vote=to_vote,
        to_decide=to_decide,
        to_answer=[r for r in mine if r.state == RequestState.RETURNED.value],
        to_submit=[r for r in mine if r.state == RequestState.DRAFT.value],
        to_accept=invited,
        agreements=directory.agreements_to_accept(
            session, user.id, _granted(session, user.id, now)
        ),
        ending_soon=_ending_soon(session, user.id, now),
    )


def _committee_work(
    session: Session, user_id: int, queue: list[AccessRequest]
) -> tuple[list[AccessRequest], list[AccessRequest]]:
    """Of the committee's queue: those I have not voted on this round, and those whose part
    I chair is undecided (neither once I declared a conflict)."""
    if not queue:
        return [], []
    ids = [r.id for r in queue]
    seats = dict(
        session.execute(
            select(CommitteeMembership.committee_id, CommitteeMembership.is_chair).where(
                CommitteeMembership.user_id == user_id
            )
        ).all()
    )
    conflicted = set(
        session.scalars(
            select(ConflictDeclaration.request_id).where(
                ConflictDeclaration.request_id.in_(ids), ConflictDeclaration.user_id == user_id
            )
        )
    )
    voted = {
        (v.request_id, v.review_round)
        for v in session.scalars(
            select(Vote).where(Vote.request_id.in_(ids), Vote.voter_id == user_id)
        )
    }
    decided = {
        (d.request_id, d.committee_id, d.review_round)
        for d in session.scalars(
            select(CommitteeDecision).where(CommitteeDecision.request_id.in_(ids))
        )
    }
    to_vote, to_decide = [], []
    for request in queue:
        if request.id in conflicted:
            continue
        mine = committees_of(request) & set(seats)
        if (request.id, request.review_round) not in voted:
            to_vote.append(request)
        if any(seats[c] and (request.id, c, request.review_round) not in decided for c in mine):
            to_decide.append(request)
    return to_vote, to_decide


def _granted(session: Session, user_id: int, now: datetime) -> set[int]:
    """The datasets of my live grants: their agreements stand between me and a download."""
    return set(
        session.scalars(
            select(Grant.dataset_id).where(
                Grant.user_id == user_id, Grant.revoked_at.is_(None), Grant.ends_at > now
            )
        )
    )


def _ending_soon(
    session: Session, user_id: int, now: datetime
) -> list[tuple[AccessRequest, datetime]]:
    """My live grants ending within ENDING_SOON, one line per request (its latest end)."""
    rows = session.execute(
        select(AccessRequest, Grant.ends_at)
        .join(Grant, Grant.request_id == AccessRequest.id)
        .where(
            Grant.user_id == user_id,
            Grant.revoked_at.is_(None),
            Grant.ends_at > now,
            Grant.ends_at <= now + ENDING_SOON,
        )
        .order_by(Grant.ends_at)
    ).all()
    latest: dict[int, tuple[AccessRequest, datetime]] = {}
    for request, ends in rows:
        latest[request.id] = (request, ends)
    return list(latest.values())
