"""Roles: who is an admin, an auditor or a signing official (each assignment audited). The
admin acts check the role first; the ensure_ form is idempotent, for set-up commands."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from access.identity.models import Role, RoleAssignment, User
from audit.log.actions import AuditAction
from audit.log.append import record_event
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, RefusalNote


def ensure_role(
    session: Session, actor: Actor, user: User, role: Role, *, scope: str = "", now: datetime
) -> bool:
    """False when the user already held it."""
    exists = session.scalar(
        select(RoleAssignment.id).where(
            RoleAssignment.user_id == user.id,
            RoleAssignment.role == role.value,
            RoleAssignment.scope == scope,
        )
    )
    if exists is not None:
        return False
    session.add(RoleAssignment(user_id=user.id, role=role.value, scope=scope))
    record_event(
        session,
        actor.audit(),
        AuditAction.ROLE_ASSIGN,
        now=now,
        target_type="user",
        target_id=user.id,
        details={"role": role.value, "scope": scope},
    )
    return True


def check_scope(role: Role, scope: str) -> None:
    """Signing officials are scoped by the institution they vouch for; others are global."""
    if (role is Role.SIGNING_OFFICIAL) != bool(scope):
        raise InvalidInput(
            "A signing official needs the institution as scope; other roles take none.",
            details={"role": role.value, "scope": scope},
        )


def drop_role(
    session: Session, actor: Actor, user: User, role: Role, *, scope: str = "", now: datetime
) -> bool:
    """The set-up commands' revoke: False when the user did not hold it."""
    assignment = session.scalar(
        select(RoleAssignment).where(
            RoleAssignment.user_id == user.id,
            RoleAssignment.role == role.value,
            RoleAssignment.scope == scope,
        )
    )
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
        details={"role": role.value, "scope": scope},
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
            "Only administrators may manage committees and roles.",
            refusal=RefusalNote(AuditAction.ADMIN_REFUSED, details={"what": what}),
        )
    return user


def assign_role(
    session: Session, actor: Actor, user_id: int, role: Role, *, scope: str, now: datetime
) -> User:
    require_admin(actor, "role_assign")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    refuse_closed_invitation(user)
    check_scope(role, scope)
    ensure_role(session, actor, user, role, scope=scope, now=now)
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
        details={"role": assignment.role, "scope": assignment.scope},
    )
    session.flush()
    session.refresh(user)
    return user
