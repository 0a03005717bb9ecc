"""Who the actor is to a request, who may see it, and the one way a request changes state.

Every use case of the workflow goes through ``check_move`` (visible? the right party? a
legal state?) and ``apply_move`` (new state, audit event in the same transaction), so no
transition can skip the table or the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from access.identity.models import Role, RoleAssignment
from access.models import CommitteeMembership
from access.requests.expiry import expire_if_lapsed
from access.requests.models import AccessRequest, ConflictDeclaration, RequestCollaborator
from access.requests.workflow import Party, RequestAction, RequestState, next_state, party_for
from audit.log.actions import AuditAction
from audit.log.append import record_event
from core.errors import Forbidden, NotFound, RefusalNote

ACTION_EVENTS = {
    RequestAction.SUBMIT: AuditAction.REQUEST_SUBMIT,
    RequestAction.REVISE: AuditAction.REQUEST_REVISE,
    RequestAction.ANSWER: AuditAction.REQUEST_ANSWER,
    RequestAction.WITHDRAW: AuditAction.REQUEST_WITHDRAW,
    RequestAction.ENDORSE: AuditAction.REQUEST_ENDORSE,
    RequestAction.DECLINE: AuditAction.REQUEST_DECLINE,
    RequestAction.VOTE: AuditAction.REQUEST_VOTE,
    RequestAction.DECLARE_CONFLICT: AuditAction.REQUEST_DECLARE_CONFLICT,
    RequestAction.APPROVE: AuditAction.REQUEST_APPROVE,
    RequestAction.REJECT: AuditAction.REQUEST_REJECT,
    RequestAction.RETURN: AuditAction.REQUEST_RETURN,
    RequestAction.REVOKE: AuditAction.REQUEST_REVOKE,
    RequestAction.CLOSE: AuditAction.REQUEST_CLOSE,
    RequestAction.RENEW: AuditAction.REQUEST_RENEW,
    RequestAction.ACCEPT: AuditAction.REQUEST_COLLABORATOR_ACCEPT,
    RequestAction.EXPIRE: AuditAction.REQUEST_EXPIRE,
}


@dataclass(frozen=True)
class Standing:
    """What the actor is to one request.

    The applicant and the invited collaborators are never signing official, member or
    chair for it: nobody endorses, votes on or decides a request they would benefit from.
    """

    applicant: bool = False
    collaborator: bool = False
    signing_official: bool = False
    member_of: frozenset[int] = frozenset()  # committees of the request the actor sits on
    chair_of: frozenset[int] = frozenset()
    conflicted: bool = False

    def is_party(self, party: Party) -> bool:
        return {
            Party.APPLICANT: self.applicant,
            Party.COLLABORATOR: self.collaborator,
            Party.SIGNING_OFFICIAL: self.signing_official,
            Party.MEMBER: bool(self.member_of) and not self.conflicted,
            Party.CHAIR: bool(self.chair_of) and not self.conflicted,
            Party.SYSTEM: False,
        }[party]


def standing_of(session: Session, actor: Actor, request: AccessRequest) -> Standing:
    user = actor.user
    if user is None:
        return Standing()
    if request.applicant_id == user.id:
        return Standing(applicant=True)
    if any(c.user_id == user.id for c in request.collaborators):
        return Standing(collaborator=True)
    memberships = session.execute(
        select(CommitteeMembership.committee_id, CommitteeMembership.is_chair).where(
            CommitteeMembership.user_id == user.id,
            CommitteeMembership.committee_id.in_(committees_of(request)),
        )
    ).all()
    institution = request.applicant.institution
    signing = institution is not None and session.scalar(
        select(RoleAssignment.id).where(
            RoleAssignment.user_id == user.id,
            RoleAssignment.role == Role.SIGNING_OFFICIAL.value,
            RoleAssignment.scope == institution,
        )
    ) is not None
    conflicted = bool(memberships) and session.scalar(
        select(ConflictDeclaration.id).where(
            ConflictDeclaration.request_id == request.id, ConflictDeclaration.user_id == user.id
        )
    ) is not None
    return Standing(
        signing_official=signing,
        member_of=frozenset(committee for committee, _ in memberships),
        chair_of=frozenset(committee for committee, chair in memberships if chair),
        conflicted=conflicted,
    )


def may_see(actor: Actor, request: AccessRequest, standing: Standing) -> bool:
    """Signing officials see a request once submitted; committees once it was endorsed."""
    return (
        standing.applicant
        or standing.collaborator
        or actor.has_role(Role.ADMIN)
        or actor.has_role(Role.AUDITOR)
        or (standing.signing_official and request.submitted_at is not None)
        or (bool(standing.member_of) and request.endorsed_at is not None)
    )


def get_visible_request(
    session: Session, actor: Actor, request_id: int, now: datetime | None = None
) -> AccessRequest:
    """The request if the actor may see it; otherwise 404, so ids reveal nothing.

    With ``now``, a request whose grants have all ended is marked expired on the way.
    """
    actor.require_user()
    request = session.get(AccessRequest, request_id)
    if request is None or not may_see(actor, request, standing_of(session, actor, request)):
        raise NotFound(f"No access request {request_id}.")
    if now is not None:
        expire_if_lapsed(session, request, now)
    return request


def can_act(session: Session, actor: Actor, request: AccessRequest, action: RequestAction) -> bool:
    """Whether the actor is the party the action belongs to (the state is checked apart)."""
    return standing_of(session, actor, request).is_party(party_for(action))


def check_move(
    session: Session, actor: Actor, request_id: int, action: RequestAction, now: datetime
) -> tuple[AccessRequest, Standing]:
    """Visible, the actor's to take, and legal in the request's state; else 404, 403, 409."""
    request = get_visible_request(session, actor, request_id, now)
    standing = standing_of(session, actor, request)
    party = party_for(action)
    if not standing.is_party(party):
        conflicted = standing.conflicted and party in (Party.MEMBER, Party.CHAIR)
        raise Forbidden(
            "You declared a conflict of interest on this request, so you cannot "
            f"{action.value} it." if conflicted
            else f"Only the request's {party.value} may {action.value} it.",
            refusal=RefusalNote(AuditAction.REQUEST_REFUSED, "access_request", str(request.id),
                                {"action": action.value, "state": request.state}),
        )
    next_state(RequestState(request.state), action)  # raises the 409 naming both
    return request, standing


def apply_move(
    session: Session,
    actor: Actor,
    request: AccessRequest,
    action: RequestAction,
    now: datetime,
    *,
    chosen: RequestState | None = None,
    details: dict[str, Any] | None = None,
) -> AccessRequest:
    """Move the request and write the action's one audit event."""
    previous = RequestState(request.state)
    request.state = next_state(previous, action, chosen).value
    request.updated_at = now
    record_event(
        session, actor.audit(), ACTION_EVENTS[action], now=now,
        target_type="access_request", target_id=request.id,
        details={"from": previous.value, "to": request.state, **(details or {})},
    )
    return request


def committees_of(request: AccessRequest) -> set[int]:
    return {requested.committee_id for requested in request.datasets}


def collaborator_of(request: AccessRequest, user_id: int) -> RequestCollaborator | None:
    return next((c for c in request.collaborators if c.user_id == user_id), None)
