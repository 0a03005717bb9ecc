"""Use cases of the applicant's side of a request: revise, submit, answer, withdraw, and the
requests they filed or share.

Each checks who the actor is relative to the request, moves the state through the
transition table (requests/workflow.py, via requests/moves.py), and writes its audit
event in the caller's transaction. Filing is in filing.py; the other sides live in
endorsement.py (signing officials), review.py (committees) and after_approval.py
(close-out, revocation, renewal, collaborators).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from access.models import CommitteeMembership
from access.requests.endorsement import require_endorser
from access.requests.filing import content_fields
from access.requests.models import AccessRequest, RequestCollaborator, RequestQuestion
from access.requests.moves import apply_move, check_move, expire_lapsed
from access.requests.notices import Notices
from access.requests.workflow import RequestAction, RequestState
from core.errors import Conflict, InvalidInput


def revise_request(
    session: Session, actor: Actor, request_id: int, *, now: datetime, **changes: Any
) -> AccessRequest:
    """Edit a draft, or a returned request before resubmitting it."""
    request, _ = check_move(session, actor, request_id, RequestAction.REVISE, now)
    changed = content_fields(changes)
    for name, value in changed.items():
        setattr(request, name, value)
    return apply_move(session, actor, request, RequestAction.REVISE, now,
                      details={"fields": sorted(changed)})


def submit_request(session: Session, actor: Actor, request_id: int, now: datetime, *,
                   notices: Notices | None = None) -> AccessRequest:
    """Submitting (again) opens a new review round: earlier votes and decisions no longer count.
    A request nobody could endorse is refused (requests/endorsement.py), not left waiting."""
    request, _ = check_move(session, actor, request_id, RequestAction.SUBMIT, now)
    unanswered = unanswered_questions(session, request)
    if unanswered:
        raise Conflict(
            "Answer every question before resubmitting the request.",
            details={"state": request.state, "action": "submit",
                     "unanswered_question_ids": [q.id for q in unanswered]},
        )
    require_endorser(session, request)
    request.review_round += 1
    request.submitted_at = now
    moved = apply_move(session, actor, request, RequestAction.SUBMIT, now,
                       details={"round": request.review_round})
    if notices is not None:
        notices.tell_next_party(session, moved, now)
    return moved


def answer_questions(
    session: Session, actor: Actor, request_id: int, *, answers: Mapping[int, str],
    now: datetime,
) -> AccessRequest:
    """Answer (or re-answer) the questions that came back with the request."""
    request, _ = check_move(session, actor, request_id, RequestAction.ANSWER, now)
    open_questions = {q.id: q for q in current_questions(session, request)}
    unknown = sorted(set(answers) - set(open_questions))
    if unknown:
        raise InvalidInput("Some questions are not this request's current questions.",
                           details={"question_ids": unknown})
    for question_id, answer in answers.items():
        open_questions[question_id].answer = answer
        open_questions[question_id].answered_at = now
    return apply_move(session, actor, request, RequestAction.ANSWER, now,
                      details={"question_ids": sorted(answers)})


def withdraw_request(
    session: Session, actor: Actor, request_id: int, now: datetime
) -> AccessRequest:
    request, _ = check_move(session, actor, request_id, RequestAction.WITHDRAW, now)
    return apply_move(session, actor, request, RequestAction.WITHDRAW, now)


def current_questions(session: Session, request: AccessRequest) -> list[RequestQuestion]:
    """The questions asked in the round that returned the request."""
    return list(session.scalars(
        select(RequestQuestion).where(RequestQuestion.request_id == request.id,
                                      RequestQuestion.review_round == request.review_round)
        .order_by(RequestQuestion.id)
    ))


def unanswered_questions(session: Session, request: AccessRequest) -> list[RequestQuestion]:
    if request.state != RequestState.RETURNED.value:
        return []
    return [q for q in current_questions(session, request) if not q.answer]


def requests_filed_by(session: Session, actor: Actor, now: datetime | None = None
                      ) -> list[AccessRequest]:
    user = actor.require_user()
    found = list(session.scalars(
        select(AccessRequest).where(AccessRequest.applicant_id == user.id)
        .order_by(AccessRequest.id.desc())
    ))
    if now is not None:
        expire_lapsed(session, found, now)
    return found


def requests_shared_with(session: Session, actor: Actor, now: datetime | None = None
                         ) -> list[AccessRequest]:
    """Requests naming the actor as a collaborator (accepted or not yet)."""
    user = actor.require_user()
    found = list(session.scalars(
        select(AccessRequest).join(RequestCollaborator)
        .where(RequestCollaborator.user_id == user.id).order_by(AccessRequest.id.desc())
    ))
    if now is not None:
        expire_lapsed(session, found, now)
    return found


def committee_ids_of(session: Session, user_id: int, *, chair_only: bool = False) -> set[int]:
    query = select(CommitteeMembership.committee_id).where(CommitteeMembership.user_id == user_id)
    if chair_only:
        query = query.where(CommitteeMembership.is_chair.is_(True))
    return set(session.scalars(query))
