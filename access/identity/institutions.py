"""Institutions: the records admins keep (name, ROR id, email domains), and which one a
user belongs to.

A user's institution comes, in this order, from an admin's setting, from the identity
provider's institution claim (when it names a record, by ROR id or name), or from the domain
of their verified email. Signing officials are scoped to a record, so nothing hangs on two
free texts agreeing letter for letter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from access.identity.actor import Actor
from access.identity.models import (
    Institution,
    InstitutionDomain,
    InstitutionSource,
    User,
)
from access.roles import require_admin
from audit.log.actions import AuditAction
from audit.log.append import record_event
from core.errors import Conflict, InvalidInput, NotFound

ROR_PREFIX = "https://ror.org/"
# ror.org/about: a leading 0, six Crockford base32 characters, two checksum digits.
CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_ROR = re.compile(r"0[0-9a-hjkmnp-tv-z]{6}[0-9]{2}")
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


def ror_problem(value: str) -> str | None:
    """Why the value is no ROR id (``https://ror.org/0xxxxxxxx``), or None when it is one."""
    if not value.startswith(ROR_PREFIX):
        return f"A ROR id is written {ROR_PREFIX}0xxxxxxxx."
    ident = value[len(ROR_PREFIX):]
    if not _ROR.fullmatch(ident):
        return "A ROR id is 0, six base32 characters (no i, l, o or u) and two digits."
    number = 0
    for char in ident[:7]:
        number = number * 32 + CROCKFORD.index(char)
    if int(ident[7:]) != 98 - (number * 100) % 97:
        return "The ROR id's checksum digits do not match: check it at ror.org."
    return None


def canonical_ror(value: str) -> str:
    """As people paste it: the bare id, or the URL with any case, become the URL."""
    value = value.strip()
    if _ROR.fullmatch(value.lower()):
        return ROR_PREFIX + value.lower()
    if value.lower().startswith(("https://ror.org/", "http://ror.org/", "ror.org/")):
        return ROR_PREFIX + value.rsplit("/", 1)[1].lower()
    return value


def domain_problem(value: str) -> str | None:
    return None if _DOMAIN.fullmatch(value) else f"{value!r} is not an email domain."


# --- the records (admins write, anyone signed in reads) -----------------------------------


def list_institutions(session: Session) -> list[Institution]:
    return list(session.scalars(
        select(Institution).options(selectinload(Institution.domains)).order_by(Institution.name)
    ))


def get_institution(session: Session, institution_id: int) -> Institution:
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise NotFound(f"No institution {institution_id}.")
    return institution


def find_institution(session: Session, named: str) -> Institution | None:
    """By ROR id (bare or as URL) or by name, case aside: what an operator types."""
    ror = canonical_ror(named)
    return session.scalar(
        select(Institution).where(
            (Institution.ror_id == ror) | _same_name(named.strip())
        )
    )


def _same_name(name: str) -> ColumnElement[bool]:
    """Names equal case aside, as the database folds case: folding one side in Python and
    the other in SQL disagrees beyond ASCII (PostgreSQL's C collation leaves 'Í' as it is),
    and a name the check let through then broke the unique index as a 500."""
    return func.lower(Institution.name) == func.lower(literal(name))


def ensure_institution(
    session: Session, actor: Actor, *, name: str, email_domains: Sequence[str] = (),
    now: datetime,
) -> Institution:
    """The set-up commands' and the demo's: the institution of that name, made if missing."""
    found = session.scalar(select(Institution).where(Institution.name == name))
    if found is not None:
        return found
    return _add(session, actor, name=name, ror_id=None, email_domains=email_domains, now=now)


def create_institution(
    session: Session,
    actor: Actor,
    *,
    name: str,
    ror_id: str | None,
    email_domains: Sequence[str],
    now: datetime,
) -> Institution:
    require_admin(actor, "institution_create")
    _require_free(session, None, name=name, ror_id=ror_id, domains=email_domains)
    return _add(session, actor, name=name, ror_id=ror_id, email_domains=email_domains, now=now)


def _add(
    session: Session, actor: Actor, *, name: str, ror_id: str | None,
    email_domains: Sequence[str], now: datetime,
) -> Institution:
    institution = Institution(name=name, ror_id=ror_id, created_at=now)
    institution.domains = [InstitutionDomain(domain=d) for d in email_domains]
    try:
        with session.begin_nested():
            session.add(institution)
    except IntegrityError:  # another admin made the same one a moment ago
        raise Conflict(
            "An institution with this name, ROR id or email domain was just added; "
            "reload the list.", details={"name": name},
        ) from None
    record_event(
        session,
        actor.audit(),
        AuditAction.INSTITUTION_CREATE,
        now=now,
        target_type="institution",
        target_id=institution.id,
        details={"name": name, "ror_id": ror_id, "email_domains": list(email_domains)},
    )
    return institution


def update_institution(
    session: Session, actor: Actor, institution_id: int, *, changes: Mapping[str, Any],
    now: datetime,
) -> Institution:
    """``email_domains`` replaces the whole list; the audit event names old and new values."""
    require_admin(actor, "institution_update")
    institution = get_institution(session, institution_id)
    before = _described(institution)
    _require_free(
        session,
        institution.id,
        name=changes.get("name"),
        ror_id=changes.get("ror_id"),
        domains=changes.get("email_domains", ()),
    )
    if "name" in changes:
        institution.name = changes["name"]
    if "ror_id" in changes:
        institution.ror_id = changes["ror_id"]
    if "email_domains" in changes:
        kept = {d.domain: d for d in institution.domains}
        institution.domains = [
            kept.get(d) or InstitutionDomain(domain=d) for d in changes["email_domains"]
        ]
    session.flush()
    after = _described(institution)
    record_event(
        session,
        actor.audit(),
        AuditAction.INSTITUTION_UPDATE,
        now=now,
        target_type="institution",
        target_id=institution.id,
        details={
            "changes": {
                key: {"from": before[key], "to": after[key]}
                for key in sorted(changes)
                if before[key] != after[key]
            }
        },
    )
    return institution


def _described(institution: Institution) -> dict[str, Any]:
    return {
        "name": institution.name,
        "ror_id": institution.ror_id,
        "email_domains": institution.email_domains,
    }


def _require_free(
    session: Session, own_id: int | None, *, name: str | None, ror_id: str | None,
    domains: Iterable[str],
) -> None:
    """Names, ROR ids and domains each belong to one institution: a second claim is a 409."""
    others = select(Institution.id) if own_id is None else select(Institution.id).where(
        Institution.id != own_id)
    if name is not None and session.scalar(
        others.where(_same_name(name))
    ) is not None:
        raise Conflict(f"An institution is already called {name!r}.", details={"name": name})
    if ror_id is not None and session.scalar(
        others.where(Institution.ror_id == ror_id)
    ) is not None:
        raise Conflict(f"Another institution has the ROR id {ror_id}.", details={"ror_id": ror_id})
    taken = sorted(session.scalars(
        select(InstitutionDomain.domain).where(
            InstitutionDomain.domain.in_(list(domains)),
            InstitutionDomain.institution_id != (own_id or 0),
        )
    ))
    if taken:
        raise Conflict(
            "Each email domain belongs to one institution; these are another's: "
            + ", ".join(taken) + ".",
            details={"email_domains": taken},
        )


# --- a user's institution -----------------------------------------------------------------


def set_user_institution(
    session: Session, actor: Actor, user_id: int, institution_id: int | None, *, now: datetime
) -> User:
    """An admin's setting outranks every sign-in; None hands the choice back to the next
    sign-in (claim, then email domain)."""
    require_admin(actor, "user_update")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    if institution_id is not None and session.get(Institution, institution_id) is None:
        raise InvalidInput("No such institution.", details={"institution_id": [institution_id]})
    before = user.institution_id
    user.institution_id = institution_id
    user.institution_source = InstitutionSource.ADMIN if institution_id is not None else None
    session.flush()
    session.refresh(user)
    record_event(
        session,
        actor.audit(),
        AuditAction.USER_UPDATE,
        now=now,
        target_type="user",
        target_id=user.id,
        details={"institution_id": {"from": before, "to": institution_id}},
    )
    return user


def institution_at_sign_in(
    session: Session, user: User, claims: Mapping[str, Any], *, claim: str,
    verified_email: str | None,
) -> None:
    """Refresh the user's institution from this sign-in unless an admin set it."""
    if user.institution_source == InstitutionSource.ADMIN:
        return
    found = _named_by_claim(session, claims.get(claim)) if claim else None
    source: InstitutionSource | None = InstitutionSource.CLAIM
    if found is None and verified_email:
        found, source = _by_email_domain(session, verified_email), InstitutionSource.EMAIL_DOMAIN
    user.institution = found
    user.institution_source = source if found is not None else None


def _named_by_claim(session: Session, value: object) -> Institution | None:
    """A claim may hold one string or a list of them; the first that names a record wins."""
    values = value if isinstance(value, list) else [value]
    for candidate in values:
        if isinstance(candidate, str) and candidate.strip():
            found = find_institution(session, candidate[:255])
            if found is not None:
                return found
    return None


def _by_email_domain(session: Session, email: str) -> Institution | None:
    """The most specific listed domain: ``example.edu`` also covers ``med.example.edu``."""
    labels = email.rsplit("@", 1)[-1].lower().split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    if not candidates:
        return None
    rows = session.execute(
        select(InstitutionDomain.domain, InstitutionDomain.institution_id).where(
            InstitutionDomain.domain.in_(candidates)
        )
    ).all()
    if not rows:
        return None
    _, institution_id = max(rows, key=lambda row: len(row[0]))
    return session.get(Institution, institution_id)
