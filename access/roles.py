"""Roles: who is an admin, an auditor or a signing official (each assignment audited). The
admin acts check the role first; the ensure_ form is idempotent, for set-up commands."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from access.identity.models import Institution, Role, RoleAssignment, User
from audit.log.actions import AuditAction
from audit.log.append import record_event
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, RefusalNote


def ensure_role(
    session: Session,
    actor: Actor,
    user: User,
    role: Role,
    *,
    institution: Institution | None = None,
    now: datetime,
) -> bool:
    """False when the user already held it."""
    if _held(session, user, role, institution) is not None:
        return False
    session.add(RoleAssignment(user_id=user.id, role=role.value, institution=institution))
    record_event(
        session,
        actor.audit(),
        AuditAction.ROLE_ASSIGN,
        now=now,
        target_type="user",
        target_id=user.id,
        details=role_details(role.value, institution),
    )
    return True


def role_details(role: str, institution: Institution | None) -> dict[str, object]:
    """What the audit record says of an assignment: the institution by id and by name."""
    if institution is None:
        return {"role": role}
    return {"role": role, "institution_id": institution.id, "institution": institution.name}


def _held(
    session: Session, user: User, role: Role, institution: Institution | None
) -> RoleAssignment | None:
    return session.scalar(
        select(RoleAssignment).where(
            RoleAssignment.user_id == user.id,
            RoleAssignment.role == role.value,
            RoleAssignment.institution_id.is_(None)
            if institution is None
            else RoleAssignment.institution_id == institution.id,
        )
    )


def role_institution(
    session: Session, role: Role, institution_id: int | None
) -> Institution | None:
    """Signing officials are scoped to the institution record they vouch for; others are
    global. The institution, for a signing official; 400 naming the field otherwise."""
    if (role is Role.SIGNING_OFFICIAL) != (institution_id is not None):
        raise InvalidInput(
            "A signing official needs an institution (institution_id); other roles take none.",
            details={"institution_id": [institution_id], "role": role.value},
        )
    if institution_id is None:
        return None
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise InvalidInput("No such institution.", details={"institution_id": [institution_id]})
    return institution


def drop_role(
    session: Session,
    actor: Actor,
    user: User,
    role: Role,
    *,
    institution: Institution | None = None,
    now: datetime,
) -> bool:
    """The set-up commands' revoke: False when the user did not hold it."""
    assignment = _held(session, user, role, institution)
    if assignment is None:
        return False
    session.delete(assignment)
    record_event(
        session,
        actor.audit(),
        AuditAction.ROLE_REVOKE,
        now=now,
        target_type="user",
        target_id=user.id,
        details=role_details(role.value, institution),
    )
    session.flush()
    session.refresh(user)
    return True


# --- the admin pages and API: each act checks the role and is audited ----------------------


def refuse_closed_invitation(user: User) -> None:
    """Roles and seats given to a withdrawn or merged invitation would reach nobody."""
    if user.status in ("withdrawn", "merged"):
        raise Conflict(
            f"User {user.id} is a {user.status} invitation: invite the person again.",
            details={"status": user.status},
        )


def require_admin(actor: Actor, what: str) -> User:
    user = actor.require_user()
    if not actor.has_role(Role.ADMIN):
        raise Forbidden(
            "Only administrators may manage committees, institutions, users and roles.",
            refusal=RefusalNote(AuditAction.ADMIN_REFUSED, details={"what": what}),
        )
    return user


def assign_role(
    session: Session,
    actor: Actor,
    user_id: int,
    role: Role,
    *,
    institution_id: int | None,
    now: datetime,
) -> User:
    require_admin(actor, "role_assign")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    refuse_closed_invitation(user)
    institution = role_institution(session, role, institution_id)
    ensure_role(session, actor, user, role, institution=institution, now=now)
    session.flush()
    session.refresh(user)
    return user


def revoke_role(
    session: Session, actor: Actor, user_id: int, assignment_id: int, *, now: datetime
) -> User:
    admin = require_admin(actor, "role_revoke")
    assignment = session.get(RoleAssignment, assignment_id)
    if assignment is None or assignment.user_id != user_id:
        raise NotFound(f"User {user_id} has no role assignment {assignment_id}.")
    if assignment.user_id == admin.id and assignment.role == Role.ADMIN.value:
        raise Conflict("Administrators cannot take their own admin role away.")
    user = assignment.user
    session.delete(assignment)
    record_event(
        session,
        actor.audit(),
        AuditAction.ROLE_REVOKE,
        now=now,
        target_type="user",
        target_id=user_id,
        details=role_details(assignment.role, assignment.institution),
    )
    session.flush()
    session.refresh(user)
    return user
