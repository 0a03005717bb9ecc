"""Administrative use cases: users, roles and committees (each one audited).

They are idempotent ("ensure_..."), so set-up commands can run again safely.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity import Actor
from access.models import Committee, CommitteeMembership, Role, RoleAssignment, User
from audit.actions import AuditAction
from audit.services import record_event


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
