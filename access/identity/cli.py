"""``flask users ...``: the operator's commands for people, the first administrator above all.

They work before the person has ever signed in. Named by issuer and subject, the user row
waits for exactly that identity; named by email, an invitation waits for a sign-in whose
provider verifies that email (access/identity/invitations.py). Each act is audited as the
operator's, naming the command and the OS user who ran it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask.cli import AppGroup
from marshmallow import ValidationError, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity.actor import Actor, operator
from access.identity.institutions import find_institution, list_institutions
from access.identity.invitations import (
    create_invitation,
    pending_invitation,
    signed_in_with_email,
)
from access.identity.models import INVITED_ISSUER, Institution, Role, User
from access.identity.users import ensure_user, list_users
from access.roles import drop_role, ensure_role
from core.web.request_scope import clock, session_factory

users_cli = AppGroup("users", help="People and their roles, before or after their first sign-in.")
ROLES = click.Choice([role.value for role in Role])


def _names_a_person(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        (
            click.option(
                "--email",
                help="The person's email; binds at their first sign-in "
                "whose provider asserts email_verified.",
            ),
            click.option("--issuer", help="The person's identity provider (its issuer URL)."),
            click.option("--subject", help="The person's subject (sub) at that provider."),
            click.option(
                "--scope",
                default="",
                help="For signing_official: the institution, by its ROR id or name "
                "(an institution record an admin made).",
            ),
        )
    ):
        command = option(command)
    return command


@users_cli.command("grant-role")
@click.argument("role", type=ROLES)
@_names_a_person
def grant_role_command(
    role: str, email: str | None, issuer: str | None, subject: str | None, scope: str
) -> None:
    """Give ROLE to the person named by --email, or by --issuer and --subject."""
    actor = operator("flask users grant-role")
    now = clock().now()
    with session_factory().begin() as session:
        institution = _institution(session, Role(role), scope)
        user = _person(session, actor, email, issuer, subject, create=True)
        given = ensure_role(session, actor, user, Role(role), institution=institution, now=now)
        held = _role(role, institution.name if institution else None)
        click.echo(
            f"{'Gave' if given else 'Already held:'} {held} "
            f"{'to ' if given else 'by '}{_describe(user)}."
        )


@users_cli.command("revoke-role")
@click.argument("role", type=ROLES)
@_names_a_person
def revoke_role_command(
    role: str, email: str | None, issuer: str | None, subject: str | None, scope: str
) -> None:
    """Take ROLE back from the person named by --email, or by --issuer and --subject."""
    actor = operator("flask users revoke-role")
    with session_factory().begin() as session:
        institution = _institution(session, Role(role), scope)
        user = _person(session, actor, email, issuer, subject, create=False)
        if not drop_role(
            session, actor, user, Role(role), institution=institution, now=clock().now()
        ):
            raise click.ClickException(
                f"{_describe(user)} does not hold {_role(role, scope)}; nothing was changed."
            )
        named = institution.name if institution else None
        click.echo(f"Took {_role(role, named)} from {_describe(user)}.")


@users_cli.command("list")
def list_command() -> None:
    """Every user and invitation, with status and roles."""
    with session_factory()() as session:
        for user in list_users(session):
            held = ", ".join(_role(a.role, a.institution_name) for a in user.roles) or "-"
            click.echo(f"{user.id}\t{user.status}\t{user.email or '-'}\t{_identity(user)}\t{held}")


def _person(
    session: Session,
    actor: Actor,
    email: str | None,
    issuer: str | None,
    subject: str | None,
    *,
    create: bool,
) -> User:
    """The user an email or an (issuer, subject) names; an invitation or a waiting row when
    there is none yet and ``create``."""
    now = clock().now()
    if email and not (issuer or subject):
        try:
            validate.Email()(email)
        except ValidationError:
            raise click.BadParameter(
                f"{email!r} is not an email address.", param_hint="--email"
            ) from None
        known = signed_in_with_email(session, email)
        if len(known) > 1:
            raise click.ClickException(
                f"{email} is the verified email of several users ("
                f"{', '.join(str(u.id) for u in known)}): name one by --issuer and --subject."
            )
        found = known[0] if known else pending_invitation(session, email)
        if found is None and create:
            found = create_invitation(session, actor, email=email, issuer=None, now=now)
    elif issuer and subject and not email:
        if issuer == INVITED_ISSUER:
            raise click.BadParameter("that issuer is the invitations' own.", param_hint="--issuer")
        found = (
            ensure_user(session, actor, issuer=issuer, subject=subject, now=now)
            if create
            else _by_identity(session, issuer, subject)
        )
    else:
        raise click.UsageError("Name the person by --email, or by --issuer and --subject.")
    if found is None:
        raise click.ClickException("No user or invitation matches; nothing was changed.")
    return found


def _by_identity(session: Session, issuer: str, subject: str) -> User | None:
    return session.scalar(select(User).where(User.issuer == issuer, User.subject == subject))


def _institution(session: Session, role: Role, scope: str) -> Institution | None:
    """The record --scope names, for a signing official; never a new one made from a typo."""
    if (role is Role.SIGNING_OFFICIAL) != bool(scope):
        raise click.UsageError(
            "A signing official needs --scope (the institution); other roles take none."
        )
    if not scope:
        return None
    found = find_institution(session, scope)
    if found is None:
        known = ", ".join(i.name for i in list_institutions(session)) or "none yet"
        raise click.BadParameter(
            f"no institution has the ROR id or name {scope!r} (known: {known}); an admin "
            "creates it first (POST /api/v1/institutions or /admin/institutions).",
            param_hint="--scope",
        )
    return found


def _role(role: str, scope: str | None) -> str:
    return f"{role} ({scope})" if scope else role


def _identity(user: User) -> str:
    if user.issuer == INVITED_ISSUER:
        return f"invited, via {user.invited_issuer or 'any provider'}"
    return f"{user.issuer} {user.subject}"


def _describe(user: User) -> str:
    if user.status == "invited":
        return (
            f"user {user.id} (invited as {user.email}: binds at their first sign-in "
            "with that email verified)"
        )
    if user.status == "not_signed_in":
        return f"user {user.id} ({user.issuer} {user.subject}, not signed in yet)"
    return f"user {user.id} ({user.email or user.subject})"
