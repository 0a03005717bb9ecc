"""One request as a given reader sees it: its committee parts, questions, votes, and the
actions open to that reader (what the pages offer as buttons and the API lists).

Votes and conflict declarations are the committees' deliberation: shown to their members,
admins and auditors, not to the applicant or the signing official.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from access.identity.models import Role
from access.models import Committee, CommitteeMembership
from access.requests.explained.progress import Facts, Progress, progress_of
from access.requests.models import AccessRequest, ConflictDeclaration, RequestQuestion, Vote
from access.requests.moves import committees_of, standing_of
from access.requests.review import conflicts_of, part_decisions, votes_of
from access.requests.workflow import RequestAction, RequestState, allowed_actions, party_for


@dataclass(frozen=True)
class Part:
    committee_id: int
    committee_name: str
    dataset_ids: list[int]
    decision: str | None
    reason: str | None
    days: int | None
    decided_at: Any


def describe_request(session: Session, actor: Actor, request: AccessRequest) -> dict[str, Any]:
    standing = standing_of(session, actor, request)
    decisions = part_decisions(session, request)
    committee_ids = sorted({rd.committee_id for rd in request.datasets})
    names = {
        row.id: row.name
        for row in session.execute(
            select(Committee.id, Committee.name).where(Committee.id.in_(committee_ids))
        )
    }
    parts = []
    for committee_id in committee_ids:
        decided = decisions.get(committee_id)
        parts.append(
            Part(
                committee_id,
                names.get(committee_id, ""),
                [rd.dataset_id for rd in request.datasets if rd.committee_id == committee_id],
                decided.decision if decided else None,
                decided.reason if decided else None,
                decided.days if decided else None,
                decided.decided_at if decided else None,
            )
        )
    deliberating = (
        bool(standing.member_of) or actor.has_role(Role.ADMIN) or actor.has_role(Role.AUDITOR)
    )
    return {
        "parts": parts,
        "questions": list(
            session.scalars(
                select(RequestQuestion)
                .where(RequestQuestion.request_id == request.id)
                .order_by(RequestQuestion.id)
            )
        ),
        "votes": votes_of(session, request) if deliberating else None,
        "conflicts": conflicts_of(session, request) if deliberating else None,
        "actions": [action.value for action in actions_for(session, actor, request)],
    }


def actions_for(session: Session, actor: Actor, request: AccessRequest) -> list[RequestAction]:
    standing = standing_of(session, actor, request)
    user = actor.user
    accepted = user is not None and any(
        c.user_id == user.id and c.accepted_at is not None for c in request.collaborators
    )
    return [
        action
        for action in allowed_actions(RequestState(request.state))
        if standing.is_party(party_for(action))
        and not (action is RequestAction.ACCEPT and accepted)
    ]


@dataclass(frozen=True)
class Tally:
    approve: int
    reject: int
    abstain: int
    voted: int
    eligible: int  # members who may vote: not the applicant's side, no declared conflict
    mine: str | None  # the reader's own vote this round


def tally_of(session: Session, actor: Actor, request: AccessRequest, votes: list[Vote]) -> Tally:
    members = set(
        session.scalars(
            select(CommitteeMembership.user_id).where(
                CommitteeMembership.committee_id.in_(committees_of(request))
            )
        )
    )
    conflicted = set(
        session.scalars(
            select(ConflictDeclaration.user_id).where(ConflictDeclaration.request_id == request.id)
        )
    )
    applicants = {request.applicant_id} | {c.user_id for c in request.collaborators}
    counts = Counter(v.vote for v in votes)
    reader = actor.user_id
    return Tally(
        counts["approve"],
        counts["reject"],
        counts["abstain"],
        len({v.voter_id for v in votes}),
        len(members - applicants - conflicted),
        next((v.vote for v in votes if v.voter_id == reader), None),
    )


def progress_for(
    session: Session, actor: Actor, request: AccessRequest, parts: list[Part]
) -> Progress:
    """The tracker's facts for this reader: names, committees, how far the parts are."""
    standing = standing_of(session, actor, request)
    reader_is = (
        "applicant"
        if standing.applicant
        else "signing official"
        if standing.signing_official
        else "committee"
        if standing.member_of
        else ""
    )
    until = None
    if request.decided_at is not None and request.approved_days:
        until = (request.decided_at + timedelta(days=request.approved_days)).date()
    return progress_of(
        request.state,
        Facts(
            applicant=request.applicant.display_name,
            institution=request.applicant.institution_name,
            committees=[p.committee_name for p in parts],
            parts_decided=sum(1 for p in parts if p.decision),
            access_until=until,
            reader_is=reader_is,
        ),
    )
