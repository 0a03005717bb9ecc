"""Turning verified OIDC claims into a local user, and recording sign-in attempts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from access.identity.institutions import institution_at_sign_in
from access.identity.invitations import (
    adopt_invitation,
    invitations_for,
    merge_invitation,
    record_adoption,
    verified_email,
)
from access.identity.models import User
from audit.log.actions import AuditAction
from audit.log.append import record_event


def sign_in(
    session: Session, actor: Actor, *, issuer: str, claims: Mapping[str, Any], now: datetime,
    institution_claim: str,
) -> User:
    """Find or create the user keyed by (issuer, subject); refresh profile claims and the
    institution (access/identity/institutions.py says from where); audit.

    With a verified email, pending invitations for it are bound: the first becomes this user
    at their first sign-in, any other gives its roles and seats to them.
    """
    subject = str(claims["sub"])
    user = session.scalar(select(User).where(User.issuer == issuer, User.subject == subject))
    email = verified_email(claims)
    invited = invitations_for(session, issuer=issuer, email=email) if email else []
    adopted = None
    if user is None and invited:
        user = adopted = adopt_invitation(invited.pop(0), issuer=issuer, subject=subject)
    if user is None:
        user = User(issuer=issuer, subject=subject, created_at=now)
        session.add(user)
    for field in ("email", "name"):
        value = claims.get(field)
        if isinstance(value, str) and value:
            setattr(user, field, value[:255])
    user.email_verified = email is not None
    user.last_login_at = now
    institution_at_sign_in(session, user, claims, claim=institution_claim, verified_email=email)
    session.flush()
    signed_in = Actor(user=user, origin=actor.origin)
    record_event(
        session,
        signed_in.audit(),
        AuditAction.LOGIN,
        now=now,
        target_type="user",
        target_id=user.id,
        details={"issuer": issuer, "institution_id": user.institution_id,
                 "institution_from": user.institution_source},
    )
    if adopted is not None:
        record_adoption(session, signed_in, adopted, now=now)
    for other in invited:
        merge_invitation(session, signed_in, user, other, now=now)
    return user


def sign_out(session: Session, actor: Actor, now: datetime) -> None:
    user = actor.require_user()
    record_event(
        session, actor.audit(), AuditAction.LOGOUT, now=now, target_type="user", target_id=user.id
    )
