"""Signing officials vouch for their institution's researchers before any committee looks.

A signing official holds the role with their institution as its scope. Endorsing sends the
request on to the committees; declining sends it back to the applicant with the reason as a
question they answer before resubmitting (which comes back to the signing official), so a
fixable problem does not end the request.

A request nobody could endorse (the applicant has no institution, or it has no signing
official but the people on the request) is refused on submit with a 409 that says whom to
ask, rather than left waiting where nobody looks; admins list such requests
(requests/admin_list.py) to set the institution or appoint an official.
"""

from __future__ import annotations

from datetime import datetime
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from access.identity.models import Role, RoleAssignment, User
from access.requests.models import AccessRequest, RequestQuestion
from access.requests.moves import apply_move, check_move
from access.requests.notices import Notices
from access.requests.workflow import RequestAction, RequestState
from audit.log.actions import AuditAction
from core.errors import Conflict, RefusalNote


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


def require_endorser(session: Session, request: AccessRequest) -> None:
    """409 naming whom to ask, audited as a refusal, when nobody could endorse the request."""
    applicant = request.applicant
    institution = applicant.institution
    if institution is None:
        _refuse(request, "no_institution",
                "Your account has no institution, so no signing official can endorse this "
                "request: ask an administrator to set your institution, then submit again.")
    people = {applicant.id} | {c.user_id for c in request.collaborators}
    officials = session.scalars(
        select(RoleAssignment.user_id).where(
            RoleAssignment.role == Role.SIGNING_OFFICIAL.value,
            RoleAssignment.institution_id == institution.id,
        )
    ).all()
    if not set(officials) - people:
        _refuse(request, "no_signing_official",
                f"Your institution, {institution.name}, has no signing official who "
                "could endorse this request: ask an administrator to appoint one, then "
                "submit again.")


def _refuse(request: AccessRequest, reason: str, message: str) -> NoReturn:
    applicant = request.applicant
    details = {"state": request.state, "action": "submit", "reason": reason,
               "institution_id": applicant.institution_id, "ask": "an administrator"}
    raise Conflict(message, details=details, refusal=RefusalNote(
        AuditAction.REQUEST_REFUSED, "access_request", str(request.id), details))
