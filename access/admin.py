"""Administrative use cases: users, roles and committees (each one audited).

They are idempotent ("ensure_..."), so set-up commands can run again safely.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity import Actor
from access.models import Committee, CommitteeMembership, Role, RoleAssignment, User
from audit.log.actions import AuditAction
from audit.log.append import record_event
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, RefusalNote


def ensure_user(
    session: Session, actor: Actor, *, issuer: str, subject: str, email: str, name: str,
    institution: str, now: datetime,
) -> User:
    """Provision a user before their first sign-in, so roles can be given in advance."""
    user = session.scalar(select(User).where(User.issuer == issuer, User.subject == subject))
    if user is not None:
        return user
    user = User(issuer=issuer, subject=subject, email=email, name=name,
                institution=institution, created_at=now)
    session.add(user)
    session.flush()
    record_event(session, actor.audit(), AuditAction.USER_CREATE, now=now,
                 target_type="user", target_id=user.id,
                 details={"issuer": issuer, "subject": subject})
    return user


def ensure_role(
    session: Session, actor: Actor, user: User, role: Role, *, scope: str = "", now: datetime
) -> None:
    exists = session.scalar(select(RoleAssignment.id).where(
        RoleAssignment.user_id == user.id, RoleAssignment.role == role.value,
        RoleAssignment.scope == scope))
    if exists is not None:
        return
    session.add(RoleAssignment(user_id=user.id, role=role.value, scope=scope))
    record_event(session, actor.audit(), AuditAction.ROLE_ASSIGN, now=now,
                 target_type="user", target_id=user.id,
                 details={"role": role.value, "scope": scope})


def ensure_committee(
    session: Session, actor: Actor, *, name: str, description: str, now: datetime
) -> Committee:
    committee = session.scalar(select(Committee).where(Committee.name == name))
    if committee is not None:
        return committee
    committee = Committee(name=name, description=description)
    session.add(committee)
    session.flush()
    record_event(session, actor.audit(), AuditAction.COMMITTEE_CREATE, now=now,
                 target_type="committee", target_id=committee.id, details={"name": name})
    return committee


def ensure_committee_member(
    session: Session, actor: Actor, committee: Committee, user: User, *, chair: bool,
    now: datetime,
) -> None:
    membership = session.scalar(select(CommitteeMembership).where(
        CommitteeMembership.committee_id == committee.id,
        CommitteeMembership.user_id == user.id))
    if membership is not None:
        return
    session.add(CommitteeMembership(committee_id=committee.id, user_id=user.id, is_chair=chair))
    record_event(session, actor.audit(), AuditAction.COMMITTEE_MEMBER_ADD, now=now,
                 target_type="committee", target_id=committee.id,
                 details={"user_id": user.id, "chair": chair})


# --- the admin pages and API: each act checks the role and is audited ----------------------

def require_admin(actor: Actor, what: str) -> User:
    user = actor.require_user()
    if not actor.has_role(Role.ADMIN):
        raise Forbidden("Only administrators may manage committees and roles.",
                        refusal=RefusalNote(AuditAction.ADMIN_REFUSED, details={"what": what}))
    return user


def list_committees(session: Session) -> list[Committee]:
    return list(session.scalars(select(Committee).order_by(Committee.name)))


def get_committee(session: Session, committee_id: int) -> Committee:
    committee = session.get(Committee, committee_id)
    if committee is None:
        raise NotFound(f"No committee {committee_id}.")
    return committee


def members_of(session: Session, committee_id: int) -> list[tuple[CommitteeMembership, User]]:
    rows = session.execute(
        select(CommitteeMembership, User).join(User, User.id == CommitteeMembership.user_id)
        .where(CommitteeMembership.committee_id == committee_id).order_by(User.name, User.id))
    return [(membership, user) for membership, user in rows]


def create_committee(
    session: Session, actor: Actor, *, name: str, description: str,
    default_approval_days: int, now: datetime,
) -> Committee:
    require_admin(actor, "committee_create")
    if session.scalar(select(Committee.id).where(Committee.name == name)) is not None:
        raise Conflict(f"A committee is already called {name!r}.")
    committee = Committee(name=name, description=description,
                          default_approval_days=default_approval_days)
    session.add(committee)
    session.flush()
    record_event(session, actor.audit(), AuditAction.COMMITTEE_CREATE, now=now,
                 target_type="committee", target_id=committee.id,
                 details={"name": name, "default_approval_days": default_approval_days})
    return committee


def update_committee(
    session: Session, actor: Actor, committee_id: int, *, changes: dict[str, Any], now: datetime,
) -> Committee:
    require_admin(actor, "committee_update")
    committee = get_committee(session, committee_id)
    name = changes.get("name")
    if name is not None and session.scalar(select(Committee.id).where(
            Committee.name == name, Committee.id != committee_id)) is not None:
        raise Conflict(f"A committee is already called {name!r}.")
    for field, value in changes.items():
        setattr(committee, field, value)
    record_event(session, actor.audit(), AuditAction.COMMITTEE_UPDATE, now=now,
                 target_type="committee", target_id=committee.id, details=dict(changes))
    return committee


def set_committee_member(
    session: Session, actor: Actor, committee_id: int, user_id: int, *, chair: bool,
    now: datetime,
) -> CommitteeMembership:
    """Add a member, or change whether they chair; a committee may have several chairs."""
    require_admin(actor, "committee_member_set")
    committee = get_committee(session, committee_id)
    if session.get(User, user_id) is None:
        raise NotFound(f"No user {user_id}.")
    membership = session.scalar(select(CommitteeMembership).where(
        CommitteeMembership.committee_id == committee.id, CommitteeMembership.user_id == user_id))
    action = AuditAction.COMMITTEE_MEMBER_UPDATE
    if membership is None:
        membership = CommitteeMembership(committee_id=committee.id, user_id=user_id)
        session.add(membership)
        action = AuditAction.COMMITTEE_MEMBER_ADD
    membership.is_chair = chair
    session.flush()
    record_event(session, actor.audit(), action, now=now, target_type="committee",
                 target_id=committee.id, details={"user_id": user_id, "chair": chair})
    return membership


def remove_committee_member(
    session: Session, actor: Actor, committee_id: int, user_id: int, *, now: datetime
) -> None:
    require_admin(actor, "committee_member_remove")
    membership = session.scalar(select(CommitteeMembership).where(
        CommitteeMembership.committee_id == committee_id, CommitteeMembership.user_id == user_id))
    if membership is None:
        raise NotFound(f"User {user_id} is not a member of committee {committee_id}.")
    session.delete(membership)
    record_event(session, actor.audit(), AuditAction.COMMITTEE_MEMBER_REMOVE, now=now,
                 target_type="committee", target_id=committee_id, details={"user_id": user_id})


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name, User.id)))


def assign_role(
    session: Session, actor: Actor, user_id: int, role: Role, *, scope: str, now: datetime
) -> User:
    """Signing officials are scoped by the institution they vouch for; others are global."""
    require_admin(actor, "role_assign")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    if (role is Role.SIGNING_OFFICIAL) != bool(scope):
        raise InvalidInput("A signing official needs the institution as scope; other roles "
                           "take none.", details={"role": role.value, "scope": scope})
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
    record_event(session, actor.audit(), AuditAction.ROLE_REVOKE, now=now,
                 target_type="user", target_id=user_id,
                 details={"role": assignment.role, "scope": assignment.scope})
    session.flush()
    session.refresh(user)
    return user
