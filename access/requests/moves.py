"""Who the actor is to a request, who may see it, and the one way a request changes state
(lazy expiry included).

Every use case of the workflow goes through ``check_move`` (visible? the right party? a
legal state?) and ``apply_move`` (new state, audit event in the same transaction), so no
transition can skip the table or the log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from access.identity.models import Role, RoleAssignment
from access.models import CommitteeMembership, Grant
from access.requests.models import AccessRequest, ConflictDeclaration, RequestCollaborator
from access.requests.workflow import Party, RequestAction, RequestState, next_state, party_for
from audit.log.actions import AuditAction
from audit.log.append import SYSTEM, record_event
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
    """The facts from the database; ``standing_from`` draws the conclusion."""
    user = actor.user
    if user is None:
        return Standing()
    if request.applicant_id == user.id or any(c.user_id == user.id
                                               for c in request.collaborators):
        return standing_from(user.id, request)
    memberships = session.execute(
        select(CommitteeMembership.committee_id, CommitteeMembership.is_chair).where(
            CommitteeMembership.user_id == user.id,
            CommitteeMembership.committee_id.in_(committees_of(request)),
        )
    ).all()
    institution_id = request.applicant.institution_id
    signing = institution_id is not None and session.scalar(
        select(RoleAssignment.id).where(
            RoleAssignment.user_id == user.id,
            RoleAssignment.role == Role.SIGNING_OFFICIAL.value,
            RoleAssignment.institution_id == institution_id,
        )
    ) is not None
    conflicted = bool(memberships) and session.scalar(
        select(ConflictDeclaration.id).where(
            ConflictDeclaration.request_id == request.id, ConflictDeclaration.user_id == user.id
        )
    ) is not None
    return standing_from(user.id, request, memberships=[(c, chair) for c, chair in memberships],
                         signing_official=signing, conflicted=conflicted)


def standing_from(
    user_id: int, request: AccessRequest, *, memberships: Iterable[tuple[int, bool]] = (),
    signing_official: bool = False, conflicted: bool = False,
) -> Standing:
    """What a user is to a request, given their seats (committee id, chair?) on its
    committees, whether they are its institution's signing official, and whether they
    declared a conflict on it. The applicant and collaborators are nothing else."""
    if request.applicant_id == user_id:
        return Standing(applicant=True)
    if any(c.user_id == user_id for c in request.collaborators):
        return Standing(collaborator=True)
    seats = list(memberships)
    return Standing(
        signing_official=signing_official,
        member_of=frozenset(committee for committee, _ in seats),
        chair_of=frozenset(committee for committee, chair in seats if chair),
        conflicted=conflicted and bool(seats),
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
        # Same answer either way (ids reveal nothing); the log says someone probed.
        raise NotFound(f"No access request {request_id}.", refusal=RefusalNote(
            AuditAction.REQUEST_REFUSED, "access_request", str(request_id),
            {"reason": "not_visible" if request is not None else "no_such_request"}))
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
    require_move(standing, request, action)
    return request, standing


def require_move(standing: Standing, request: AccessRequest, action: RequestAction) -> None:
    """403 unless the actor is the action's party (naming a declared conflict); 409 unless
    the request's state allows the action (naming both)."""
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


# Lazy expiry: an approved request whose grants have all ended is marked expired when read.
# Downloads never wait for this: URL issuance checks each grant's end date itself. The state
# only catches up so that people and lists see the truth, and the change is audited (as done
# by the service, not by whoever happened to look).

def expire_if_lapsed(session: Session, request: AccessRequest, now: datetime) -> bool:
    return bool(expire_lapsed(session, [request], now))


def expire_lapsed(session: Session, requests: Iterable[AccessRequest], now: datetime
                  ) -> list[AccessRequest]:
    """Expire those of the requests whose last unrevoked grant has ended (one query)."""
    approved = {r.id: r for r in requests if r.state == RequestState.APPROVED.value}
    if not approved:
        return []
    last_end = dict(session.execute(
        select(Grant.request_id, func.max(Grant.ends_at))
        .where(Grant.request_id.in_(approved), Grant.revoked_at.is_(None))
        .group_by(Grant.request_id)
    ).all())
    expired = []
    for request_id, request in sorted(approved.items()):
        ends = last_end.get(request_id)
        if ends is not None and _aware(ends) > now:
            continue
        request.state = next_state(RequestState.APPROVED, RequestAction.EXPIRE).value
        request.updated_at = now
        record_event(
            session, SYSTEM, AuditAction.REQUEST_EXPIRE, now=now,
            target_type="access_request", target_id=request_id,
            details={"from": RequestState.APPROVED.value, "to": request.state,
                     "grants_ended_at": _aware(ends).isoformat() if ends else None},
        )
        expired.append(request)
    return expired


def _aware(moment: datetime) -> datetime:
    """A plain value from the database is naive UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
