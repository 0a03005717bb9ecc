"""People known by email before their first sign-in, and binding them when they sign in.

An invitation is a user row under INVITED_ISSUER, so roles and committee seats attach to it
as to anyone. A sign-in binds it only when the provider asserts ``email_verified``: an
unverified email is whatever the person typed, and would hand the seats to anyone.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from access.identity.models import (
    INVITED_ISSUER,
    InstitutionSource,
    Invitation,
    RoleAssignment,
    User,
    email_is,
)
from access.models import CommitteeMembership
from access.roles import role_details
from audit.log.actions import AuditAction
from audit.log.append import record_event
from core.errors import Conflict


def verified_email(claims: Mapping[str, Any]) -> str | None:
    """The email, lower-cased, if the provider vouches for it (the boolean true, as OpenID
    Connect Core 5.1 defines the claim; the string "true" is not taken for it)."""
    email = claims.get("email")
    if claims.get("email_verified") is True and isinstance(email, str) and "@" in email:
        return email.strip().lower()
    return None


def pending_invitation(session: Session, email: str) -> User | None:
    return session.scalar(
        select(User)
        .where(User.invitation == Invitation.PENDING, email_is(session, email))
        .order_by(User.id)
    )


def signed_in_with_email(session: Session, email: str) -> list[User]:
    """Users who signed in with this email verified: the people an email names for sure."""
    return list(
        session.scalars(
            select(User)
            .where(
                User.issuer != INVITED_ISSUER,
                User.email_verified.is_(True),
                email_is(session, email),
            )
            .order_by(User.id)
        )
    )


def create_invitation(
    session: Session, actor: Actor, *, email: str, issuer: str | None, now: datetime
) -> User:
    """One pending invitation per email; none for someone already signed in with it."""
    email = email.strip().lower()
    if pending_invitation(session, email) is not None:
        raise Conflict(f"{email} is already invited.", details={"email": email})
    known = signed_in_with_email(session, email)
    if known:
        raise Conflict(
            f"{email} has already signed in (user {known[0].id}): give the roles to that user.",
            details={"email": email, "user_id": known[0].id},
        )
    invited = User(
        issuer=INVITED_ISSUER,
        subject=uuid.uuid4().hex,
        email=email,
        created_at=now,
        invitation=Invitation.PENDING,
        invited_issuer=issuer,
        invited_at=now,
    )
    session.add(invited)
    session.flush()
    record_event(
        session,
        actor.audit(),
        AuditAction.INVITATION_CREATE,
        now=now,
        target_type="user",
        target_id=invited.id,
        details={"email": email, "issuer": issuer},
    )
    return invited


def invitations_for(session: Session, *, issuer: str, email: str) -> list[User]:
    """The pending invitations a sign-in from ``issuer`` with this verified email takes."""
    return list(
        session.scalars(
            select(User)
            .where(
                User.invitation == Invitation.PENDING,
                email_is(session, email),
                or_(User.invited_issuer.is_(None), User.invited_issuer == issuer),
            )
            .order_by(User.id)
        )
    )


def adopt_invitation(invited: User, *, issuer: str, subject: str) -> User:
    """The first sign-in becomes the invited row itself: its id, roles and seats stay."""
    invited.issuer, invited.subject = issuer, subject
    invited.invitation = Invitation.BOUND
    return invited


def record_adoption(session: Session, actor: Actor, user: User, *, now: datetime) -> None:
    record_event(
        session,
        actor.audit(),
        AuditAction.INVITATION_BIND,
        now=now,
        target_type="user",
        target_id=user.id,
        details={"invitation": user.id, "email": user.email},
    )


def merge_invitation(
    session: Session, actor: Actor, user: User, invited: User, *, now: datetime
) -> None:
    """Give ``user`` (who already had a row) what ``invited`` was given, and close it."""
    moved_roles = []
    for assignment in list(invited.roles):
        if not any(a.role == assignment.role and a.institution_id == assignment.institution_id
                   for a in user.roles):
            session.add(RoleAssignment(user_id=user.id, role=assignment.role,
                                       institution_id=assignment.institution_id))
            moved_roles.append(role_details(assignment.role, assignment.institution))
        session.delete(assignment)
    # An admin's institution for the invited person outranks what this sign-in found.
    if (invited.institution_source == InstitutionSource.ADMIN
            and user.institution_source != InstitutionSource.ADMIN):
        user.institution_id = invited.institution_id
        user.institution_source = InstitutionSource.ADMIN
    seats = session.scalars(
        select(CommitteeMembership).where(CommitteeMembership.user_id == invited.id)
    ).all()
    moved_seats = []
    for seat in seats:
        own = session.scalar(
            select(CommitteeMembership).where(
                CommitteeMembership.user_id == user.id,
                CommitteeMembership.committee_id == seat.committee_id,
            )
        )
        if own is None:
            seat.user_id = user.id
        else:
            own.is_chair = own.is_chair or seat.is_chair
            session.delete(seat)
        moved_seats.append({"committee_id": seat.committee_id, "chair": seat.is_chair})
    invited.invitation = Invitation.BOUND
    session.flush()
    session.refresh(user)
    session.refresh(invited)
    record_event(
        session,
        actor.audit(),
        AuditAction.INVITATION_BIND,
        now=now,
        target_type="user",
        target_id=user.id,
        details={
            "invitation": invited.id,
            "email": invited.email,
            "roles": moved_roles,
            "committees": moved_seats,
        },
    )
