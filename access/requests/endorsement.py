"""Signing officials vouch for their institution's researchers before any committee looks.

A signing official holds the role with their institution as its scope. Endorsing sends the
request on to the committees; declining sends it back to the applicant with the reason as a
question they answer before resubmitting (which comes back to the signing official), so a
fixable problem does not end the request.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from access.identity.models import Role, RoleAssignment, User
from access.requests.models import AccessRequest, RequestQuestion
from access.requests.moves import apply_move, check_move
from access.requests.notices import Notices
from access.requests.workflow import RequestAction, RequestState


def endorse_request(
    session: Session, actor: Actor, request_id: int, *, comment: str = "", now: datetime,
    notices: Notices | None = None,
) -> AccessRequest:
    request, _ = check_move(session, actor, request_id, RequestAction.ENDORSE, now)
    request.endorsed_at = now
    request.endorsed_by_id = actor.require_user().id
    moved = apply_move(session, actor, request, RequestAction.ENDORSE, now,
                       details={"comment": comment} if comment else None)
    if notices is not None:
        notices.tell_next_party(session, moved, now)
    return moved


def decline_request(
    session: Session, actor: Actor, request_id: int, *, reason: str, now: datetime,
    notices: Notices | None = None,
) -> AccessRequest:
    request, _ = check_move(session, actor, request_id, RequestAction.DECLINE, now)
    session.add(RequestQuestion(
        request_id=request.id, review_round=request.review_round, committee_id=None,
        asked_by_id=actor.require_user().id, asked_at=now, question=reason,
    ))
    moved = apply_move(session, actor, request, RequestAction.DECLINE, now,
                       details={"reason": reason})
    if notices is not None:
        notices.tell_next_party(session, moved, now)
    return moved


def endorsement_queue(session: Session, actor: Actor) -> list[AccessRequest]:
    """Submitted requests from the institutions the actor is signing official for."""
    user = actor.require_user()
    institutions = select(RoleAssignment.institution_id).where(
        RoleAssignment.user_id == user.id, RoleAssignment.role == Role.SIGNING_OFFICIAL.value)
    return list(session.scalars(
        select(AccessRequest).join(User, User.id == AccessRequest.applicant_id)
        .where(AccessRequest.state == RequestState.SUBMITTED.value,
               User.institution_id.in_(institutions), AccessRequest.applicant_id != user.id)
        .order_by(AccessRequest.submitted_at, AccessRequest.id)
    ))
