"""Admins' acts on people ahead of their sign-in: invite someone by email with the roles and
committee seats they will hold, or withdraw the invitation. Each is audited; an invitation
binds only at a sign-in whose provider verifies that email (access/identity/invitations.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.committees import ensure_committee_member
from access.identity.actor import Actor
from access.identity.invitations import create_invitation
from access.identity.models import Invitation, Role, User
from access.models import Committee, CommitteeMembership
from access.roles import ensure_role, require_admin, role_details, role_institution
from audit.log.actions import AuditAction
from audit.log.append import record_event
from core.errors import Conflict, InvalidInput, NotFound


def invite_person(
    session: Session,
    actor: Actor,
    *,
    email: str,
    issuer: str | None,
    roles: Sequence[tuple[Role, int | None]] = (),
    seats: Sequence[tuple[int, bool]] = (),
    now: datetime,
) -> User:
    """All or nothing: a bad role or an unknown committee invites nobody."""
    require_admin(actor, "invitation_create")
    scoped = [(role, role_institution(session, role, institution_id))
              for role, institution_id in roles]
    committees = {
        c.id: c
        for c in session.scalars(
            select(Committee).where(Committee.id.in_([committee_id for committee_id, _ in seats]))
        )
    }
    unknown = sorted({committee_id for committee_id, _ in seats} - set(committees))
    if unknown:
        raise InvalidInput("No such committee.", details={"committees": unknown})
    invited = create_invitation(session, actor, email=email, issuer=issuer, now=now)
    for role, institution in scoped:
        ensure_role(session, actor, invited, role, institution=institution, now=now)
    for committee_id, chair in seats:
        ensure_committee_member(
            session, actor, committees[committee_id], invited, chair=chair, now=now
        )
    session.flush()
    session.refresh(invited)
    return invited


def withdraw_invitation(session: Session, actor: Actor, user_id: int, *, now: datetime) -> User:
    """The invitation stops binding, and its roles and seats go with it; the row stays, as
    the audit trail names it."""
    require_admin(actor, "invitation_withdraw")
    invited = session.get(User, user_id)
    if invited is None:
        raise NotFound(f"No user {user_id}.")
    if invited.invitation != Invitation.PENDING:
        raise Conflict(
            f"User {user_id} is not a pending invitation ({invited.status}): take "
            "their roles and seats away instead.",
            details={"status": invited.status},
        )
    roles = [role_details(a.role, a.institution) for a in invited.roles]
    for assignment in list(invited.roles):
        session.delete(assignment)
    seats = session.scalars(
        select(CommitteeMembership).where(CommitteeMembership.user_id == invited.id)
    ).all()
    for seat in seats:
        session.delete(seat)
    invited.invitation = Invitation.WITHDRAWN
    record_event(
        session,
        actor.audit(),
        AuditAction.INVITATION_WITHDRAW,
        now=now,
        target_type="user",
        target_id=invited.id,
        details={
            "email": invited.email,
            "roles": roles,
            "committees": [seat.committee_id for seat in seats],
        },
    )
    session.flush()
    session.refresh(invited)
    return invited
