"""Use cases of a data-access request: file, submit, withdraw, approve, reject.

Each checks who the actor is relative to the request, moves the state through the
transition table, and writes its audit event in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity import Actor
from access.models import AccessRequest, CommitteeMembership, Grant, RequestedDataset, Role
from access.ports import DatasetDirectory
from access.workflow import Party, RequestAction, RequestState, next_state, party_for
from audit.actions import AuditAction
from audit.services import record_event
from core.errors import Forbidden, InvalidInput, NotFound, RefusalNote

ACTION_EVENTS = {
    RequestAction.SUBMIT: AuditAction.REQUEST_SUBMIT,
    RequestAction.WITHDRAW: AuditAction.REQUEST_WITHDRAW,
    RequestAction.APPROVE: AuditAction.REQUEST_APPROVE,
    RequestAction.REJECT: AuditAction.REQUEST_REJECT,
}


def create_request(
    session: Session,
    actor: Actor,
    *,
    title: str,
    research_use_statement: str,
    dataset_ids: Sequence[int],
    directory: DatasetDirectory,
    now: datetime,
) -> AccessRequest:
    user = actor.require_user()
    found = directory.lookup(session, dataset_ids)
    unknown = sorted(set(dataset_ids) - set(found))
    if unknown:
        raise InvalidInput("Some datasets do not exist.", details={"dataset_ids": unknown})
    open_ones = sorted(ref.id for ref in found.values() if ref.committee_id is None)
    if open_ones:
        raise InvalidInput(
            "Open-access datasets need no request; download them directly.",
            details={"dataset_ids": open_ones},
        )
    request = AccessRequest(
        applicant_id=user.id, title=title, research_use_statement=research_use_statement,
        state=RequestState.DRAFT.value, created_at=now, updated_at=now,
    )
    request.datasets = [
        RequestedDataset(dataset_id=ref.id, committee_id=ref.committee_id)
        for ref in sorted(found.values(), key=lambda ref: ref.id)
    ]
    session.add(request)
    session.flush()
    record_event(
        session, actor.audit(), AuditAction.REQUEST_CREATE, now=now,
        target_type="access_request", target_id=request.id,
        details={"dataset_ids": [rd.dataset_id for rd in request.datasets]},
    )
    return request


def submit_request(session: Session, actor: Actor, request_id: int, now: datetime) -> AccessRequest:
    request = _move(session, actor, request_id, RequestAction.SUBMIT, now)
    request.submitted_at = now
    return request


def withdraw_request(
    session: Session, actor: Actor, request_id: int, now: datetime
) -> AccessRequest:
    return _move(session, actor, request_id, RequestAction.WITHDRAW, now)


def approve_request(
    session: Session, actor: Actor, request_id: int, *, reason: str, days: int, now: datetime
) -> AccessRequest:
    """Approval opens every dataset of the request to the applicant until the end date."""
    request = _move(session, actor, request_id, RequestAction.APPROVE, now,
                    details={"reason": reason, "days": days})
    _record_decision(request, actor, reason, now)
    request.approved_days = days
    ends_at = now + timedelta(days=days)
    for requested in request.datasets:
        grant = Grant(user_id=request.applicant_id, dataset_id=requested.dataset_id,
                      request_id=request.id, starts_at=now, ends_at=ends_at)
        session.add(grant)
        session.flush()
        record_event(
            session, actor.audit(), AuditAction.GRANT_CREATE, now=now,
            target_type="grant", target_id=grant.id,
            details={"user_id": grant.user_id, "dataset_id": grant.dataset_id,
                     "request_id": request.id, "ends_at": ends_at.isoformat()},
        )
    return request


def reject_request(
    session: Session, actor: Actor, request_id: int, *, reason: str, now: datetime
) -> AccessRequest:
    request = _move(session, actor, request_id, RequestAction.REJECT, now,
                    details={"reason": reason})
    _record_decision(request, actor, reason, now)
    return request


def get_visible_request(session: Session, actor: Actor, request_id: int) -> AccessRequest:
    """The request if the actor may see it; otherwise 404, so ids reveal nothing."""
    user = actor.require_user()
    request = session.get(AccessRequest, request_id)
    if request is None or not (
        request.applicant_id == user.id
        or actor.has_role(Role.ADMIN)
        or actor.has_role(Role.AUDITOR)
        or _committee_ids(request) & committee_ids_of(session, user.id)
    ):
        raise NotFound(f"No access request {request_id}.")
    return request


def requests_filed_by(session: Session, actor: Actor) -> list[AccessRequest]:
    user = actor.require_user()
    return list(session.scalars(
        select(AccessRequest).where(AccessRequest.applicant_id == user.id)
        .order_by(AccessRequest.id.desc())
    ))


def review_queue(session: Session, actor: Actor) -> list[AccessRequest]:
    """Submitted requests touching a committee the actor sits on, oldest first."""
    user = actor.require_user()
    return list(session.scalars(
        select(AccessRequest)
        .where(
            AccessRequest.state == RequestState.SUBMITTED.value,
            AccessRequest.id.in_(
                select(RequestedDataset.request_id).where(
                    RequestedDataset.committee_id.in_(
                        select(CommitteeMembership.committee_id)
                        .where(CommitteeMembership.user_id == user.id)
                    )
                )
            ),
        )
        .order_by(AccessRequest.submitted_at)
    ))


def committee_ids_of(session: Session, user_id: int, *, chair_only: bool = False) -> set[int]:
    query = select(CommitteeMembership.committee_id).where(CommitteeMembership.user_id == user_id)
    if chair_only:
        query = query.where(CommitteeMembership.is_chair.is_(True))
    return set(session.scalars(query))


def can_act(session: Session, actor: Actor, request: AccessRequest, action: RequestAction) -> bool:
    """Whether the actor is the party the action belongs to (the state is checked apart)."""
    user = actor.user
    if user is None:
        return False
    if party_for(action) is Party.APPLICANT:
        return request.applicant_id == user.id
    # A chair never decides their own request, even on a committee they chair.
    chaired = committee_ids_of(session, user.id, chair_only=True)
    return request.applicant_id != user.id and _committee_ids(request) <= chaired


def _move(
    session: Session,
    actor: Actor,
    request_id: int,
    action: RequestAction,
    now: datetime,
    details: dict[str, object] | None = None,
) -> AccessRequest:
    request = get_visible_request(session, actor, request_id)
    if not can_act(session, actor, request, action):
        raise Forbidden(
            f"Only the request's {party_for(action).value} may {action.value} it.",
            refusal=RefusalNote(AuditAction.REQUEST_REFUSED, "access_request", str(request.id),
                                {"action": action.value}),
        )
    previous = RequestState(request.state)
    request.state = next_state(previous, action).value
    request.updated_at = now
    record_event(
        session, actor.audit(), ACTION_EVENTS[action], now=now,
        target_type="access_request", target_id=request.id,
        details={"from": previous.value, "to": request.state, **(details or {})},
    )
    return request


def _record_decision(request: AccessRequest, actor: Actor, reason: str, now: datetime) -> None:
    request.decided_at = now
    request.decided_by_id = actor.require_user().id
    request.decision_reason = reason


def _committee_ids(request: AccessRequest) -> set[int]:
    return {requested.committee_id for requested in request.datasets}
