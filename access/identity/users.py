"""Users known before their first sign-in (provisioned by set-up commands), and the list admins
see."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from access.identity.models import Institution, InstitutionSource, User
from audit.log.actions import AuditAction
from audit.log.append import record_event


def ensure_user(
    session: Session,
    actor: Actor,
    *,
    issuer: str,
    subject: str,
    email: str | None = None,
    name: str | None = None,
    institution: Institution | None = None,
    now: datetime,
) -> User:
    """Provision a user before their first sign-in, so roles can be given in advance; an
    institution given here is the set-up's choice, which sign-ins do not override."""
    user = session.scalar(select(User).where(User.issuer == issuer, User.subject == subject))
    if user is not None:
        return user
    user = User(
        issuer=issuer,
        subject=subject,
        email=email,
        name=name,
        institution=institution,
        institution_source=InstitutionSource.ADMIN if institution is not None else None,
        created_at=now,
    )
    session.add(user)
    session.flush()
    record_event(
        session,
        actor.audit(),
        AuditAction.USER_CREATE,
        now=now,
        target_type="user",
        target_id=user.id,
        details={"issuer": issuer, "subject": subject},
    )
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name, User.id)))
