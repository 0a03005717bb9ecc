"""The actor's two shapes: made from a loaded user, or from a principal (who and which
roles, read as rows by the Bearer lookup) whose user is loaded only when a use case reads it."""

from __future__ import annotations

import pytest

from access.identity.actor import Actor, Origin, Principal, RoleHeld
from access.identity.models import Role, RoleAssignment, User
from core.errors import NotAuthenticated

OFFICIAL = Principal(7, "https://idp.example", "s7",
                     (RoleHeld("signing_official", 3), RoleHeld("auditor", None)))


def loaded(user_id: int = 7) -> User:
    user = User(id=user_id, issuer="https://idp.example", subject=f"s{user_id}")
    user.roles = [RoleAssignment(role="signing_official", institution_id=3),
                  RoleAssignment(role="auditor")]
    return user


class Loader:
    """Stands in for the request's session: counts what was loaded."""

    def __init__(self, user: User | None) -> None:
        self.user = user
        self.asked: list[int] = []

    def __call__(self, user_id: int) -> User | None:
        self.asked.append(user_id)
        return self.user


def test_a_principal_answers_who_and_which_roles_without_loading_the_user() -> None:
    loader = Loader(loaded())
    actor = Actor(token_id=5, scopes=frozenset({"download"}), principal=OFFICIAL,
                  load_user=loader, origin=Origin(ip="192.0.2.1", request_id="r1"))

    assert actor.user_id == 7
    assert actor.has_role(Role.AUDITOR) and actor.has_role(Role.SIGNING_OFFICIAL)
    assert not actor.has_role(Role.ADMIN)
    assert actor.require_principal() is OFFICIAL
    audit = actor.audit()
    assert (audit.user_id, audit.issuer, audit.subject, audit.token_id) == (
        7, "https://idp.example", "s7", 5)
    assert audit.roles == ("signing_official", "auditor")
    assert (audit.ip, audit.request_id) == ("192.0.2.1", "r1")
    assert loader.asked == []


def test_the_user_is_loaded_once_on_first_use() -> None:
    user = loaded()
    loader = Loader(user)
    actor = Actor(principal=OFFICIAL, load_user=loader)

    assert actor.user is user
    assert actor.require_user() is user
    assert loader.asked == [7]


def test_once_loaded_the_principal_follows_the_users_roles() -> None:
    user = loaded()
    actor = Actor(principal=OFFICIAL, load_user=Loader(user))
    assert actor.require_user() is user

    user.roles.append(RoleAssignment(role="admin"))

    assert actor.has_role(Role.ADMIN)
    assert actor.audit().roles == ("signing_official", "auditor", "admin")


def test_a_user_deleted_since_the_token_was_read_is_not_authenticated() -> None:
    actor = Actor(principal=OFFICIAL, load_user=Loader(None))

    with pytest.raises(NotAuthenticated):
        actor.require_user()


def test_a_principal_needs_a_way_to_load_its_user() -> None:
    with pytest.raises(ValueError, match="load_user"):
        Actor(principal=OFFICIAL)


def test_made_from_a_user_the_principal_follows_its_roles() -> None:
    user = loaded()
    actor = Actor(user=user)
    assert actor.principal == Principal(7, "https://idp.example", "s7", OFFICIAL.roles)

    user.roles.append(RoleAssignment(role="admin"))

    assert actor.has_role(Role.ADMIN)
    assert actor.audit().roles == ("signing_official", "auditor", "admin")


def test_no_one_has_no_principal_and_no_roles() -> None:
    nobody = Actor(user=None)

    assert nobody.user is None and nobody.user_id is None and nobody.principal is None
    assert not nobody.has_role(Role.ADMIN)
    assert nobody.audit().roles == ()
    with pytest.raises(NotAuthenticated):
        nobody.require_principal()
