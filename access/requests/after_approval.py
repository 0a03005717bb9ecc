"""After approval: collaborators joining, close-out, revocation and renewal.

Collaborators' grants mirror the applicant's (same datasets, same end), and every way a
request ends (revoked, closed, expired) ends all of its grants at once, so a
collaborator's access always follows the request's.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.grants import end_request_grants, live_grants_of_request, open_grant
from access.identity.actor import Actor
from access.ports import DatasetDirectory
from access.requests.filing import CONTENT_FIELDS, create_request
from access.requests.models import AccessRequest
from access.requests.moves import apply_move, check_move, collaborator_of
from access.requests.notices import Notices
from access.requests.workflow import RequestAction, RequestState
from core.errors import Conflict, InvalidInput

OPEN_STATES = (RequestState.DRAFT, RequestState.SUBMITTED, RequestState.ENDORSED,
               RequestState.UNDER_REVIEW, RequestState.RETURNED)


def accept_collaboration(
    session: Session, actor: Actor, request_id: int, *, now: datetime
) -> AccessRequest:
    """An invited collaborator accepts; on an approved request their grants start now."""
    request, _ = check_move(session, actor, request_id, RequestAction.ACCEPT, now)
    user = actor.require_user()
    invitation = collaborator_of(request, user.id)
    if invitation is None or invitation.accepted_at is not None:
        raise Conflict("You have already accepted this invitation.",
                       details={"state": request.state, "action": "accept"})
    invitation.accepted_at = now
    granted = []
    if request.state == RequestState.APPROVED.value:
        for mirrored in live_grants_of_request(session, request.id, now):
            if mirrored.user_id != request.applicant_id:
                continue
            granted.append(open_grant(
                session, actor.audit(), user_id=user.id, dataset_id=mirrored.dataset_id,
                request_id=request.id, starts_at=now, ends_at=mirrored.ends_at).id)
    return apply_move(session, actor, request, RequestAction.ACCEPT, now,
                      details={"collaborator_id": user.id, "grant_ids": granted})


def revoke_request(
    session: Session, actor: Actor, request_id: int, *, reason: str, now: datetime,
    notices: Notices | None = None,
) -> AccessRequest:
    """A chair ends the project at once: every grant of the request, with the reason."""
    request, _ = check_move(session, actor, request_id, RequestAction.REVOKE, now)
    ended = end_request_grants(session, request.id, f"revoked: {reason}", now)
    moved = apply_move(session, actor, request, RequestAction.REVOKE, now,
                       details={"reason": reason, "ended_grant_ids": ended})
    if notices is not None:
        notices.tell_of_revocation(session, moved, reason, ended, now)
    return moved


def close_request(
    session: Session, actor: Actor, request_id: int, *, statement: str,
    copies_destroyed: bool, now: datetime,
) -> AccessRequest:
    """The applicant's close-out, attesting that every copy of the data was destroyed."""
    if not copies_destroyed:
        raise InvalidInput("Close-out needs your attestation that every copy of the data was "
                           "destroyed.", details={"copies_destroyed": False})
    request, _ = check_move(session, actor, request_id, RequestAction.CLOSE, now)
    request.closed_at = now
    request.close_out_statement = statement
    ended = end_request_grants(session, request.id, "closed out by the applicant", now)
    return apply_move(session, actor, request, RequestAction.CLOSE, now, details={
        "copies_destroyed": True, "statement": statement, "ended_grant_ids": ended})


def renew_request(
    session: Session, actor: Actor, request_id: int, *, progress_report: str,
    directory: DatasetDirectory, now: datetime,
) -> AccessRequest:
    """A new draft linked to this request, prefilled from it, with the progress report.

    The current grants run on until their end; the renewal goes through the whole review.
    Returns the new request.
    """
    request, _ = check_move(session, actor, request_id, RequestAction.RENEW, now)
    pending = session.scalar(select(AccessRequest.id).where(
        AccessRequest.renewal_of_id == request.id,
        AccessRequest.state.in_([s.value for s in OPEN_STATES])))
    if pending is not None:
        raise Conflict(f"Renewal request {pending} is already open for this request.",
                       details={"state": request.state, "action": "renew",
                                "renewal_id": pending})
    still_controlled = [ref.id for ref in directory.lookup(
        session, [rd.dataset_id for rd in request.datasets]).values()
        if ref.committee_id is not None]
    if not still_controlled:
        raise Conflict("None of this request's datasets needs a request any more.",
                       details={"state": request.state, "action": "renew"})
    renewal = create_request(
        session, actor, dataset_ids=still_controlled, directory=directory, now=now,
        collaborator_emails=[c.user.email or "" for c in request.collaborators],
        renewal_of=request, progress_report=progress_report,
        **{name: getattr(request, name) for name in CONTENT_FIELDS},
    )
    apply_move(session, actor, request, RequestAction.RENEW, now,
               details={"renewal_id": renewal.id})
    return renewal
