"""The actor of a use case: the signed-in user (if any), how they proved it, and from where."""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from access.identity.models import Role, User
from audit.log.append import AuditActor
from core.errors import NotAuthenticated


@dataclass(frozen=True)
class Origin:
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


_SIGN_IN = "Sign in, or send a personal API token as a Bearer token."


class RoleHeld(NamedTuple):
    role: str
    institution_id: int | None  # a signing official's institution; None for global roles


@dataclass(frozen=True)
class Principal:
    """Who a user is, as every request needs it: id, identity and roles, as a plain record.

    The Bearer lookup reads it as rows (access/tokens.py): building the ORM user with its
    roles cost a URL issuance a sixth of its Python time, and the download path reads
    nothing else of the user.
    """

    id: int
    issuer: str
    subject: str
    roles: tuple[RoleHeld, ...]

    @classmethod
    def of(cls, user: User) -> Principal:
        return cls(user.id, user.issuer, user.subject,
                   tuple(RoleHeld(a.role, a.institution_id) for a in user.roles))


class Actor:
    """Who acts: ``principal`` on every path; ``user``, the ORM record, for use cases that
    read more of the user (email, institution, relationships).

    Made either from a loaded ``user`` (a session's, a command's, a test's), or from a
    ``principal`` with ``load_user``, which loads the record on first use of ``user``.
    """

    __slots__ = ("_load_user", "_principal", "_user", "operator", "origin", "scopes",
                 "token_id")

    def __init__(
        self,
        user: User | None = None,
        origin: Origin = Origin(),  # frozen, so one shared default is safe
        token_id: int | None = None,
        # The token's scopes (core/scopes.py); None for a session, which is not scoped.
        scopes: frozenset[str] | None = None,
        # Set for an operator's command on the host: {"command", "os_user"} (see operator()).
        operator: Mapping[str, str] | None = None,
        *,
        principal: Principal | None = None,
        load_user: Callable[[int], User | None] | None = None,
    ) -> None:
        if principal is not None and load_user is None:
            raise ValueError("An actor made from a principal needs load_user.")
        self._user, self._principal, self._load_user = user, principal, load_user
        self.origin, self.token_id, self.scopes, self.operator = origin, token_id, scopes, operator

    def __repr__(self) -> str:
        return f"Actor(user_id={self.user_id!r}, token_id={self.token_id!r})"

    @property
    def principal(self) -> Principal | None:
        # From the ORM user whenever it is loaded, each time: a use case that changed the
        # actor's roles sees them. Until then, as the request read it.
        if self._user is not None:
            return Principal.of(self._user)
        return self._principal

    @property
    def user_id(self) -> int | None:
        if self._user is not None:
            return self._user.id
        return None if self._principal is None else self._principal.id

    @property
    def user(self) -> User | None:
        if self._user is None and self._principal is not None:
            assert self._load_user is not None  # the constructor ensures it
            self._user = self._load_user(self._principal.id)
            if self._user is None:  # deleted since the request began
                raise NotAuthenticated("Your account no longer exists.")
        return self._user

    def require_user(self) -> User:
        user = self.user
        if user is None:
            raise NotAuthenticated(_SIGN_IN)
        return user

    def require_principal(self) -> Principal:
        """As ``require_user`` where who and which roles are enough: no user is loaded."""
        principal = self.principal
        if principal is None:
            raise NotAuthenticated(_SIGN_IN)
        return principal

    def has_role(self, role: Role) -> bool:
        principal = self.principal
        return principal is not None and any(held.role == role for held in principal.roles)

    def audit(self) -> AuditActor:
        principal = self.principal
        return AuditActor(
            user_id=principal.id if principal else None,
            issuer=principal.issuer if principal else None,
            subject=principal.subject if principal else None,
            token_id=self.token_id,
            roles=tuple(held.role for held in principal.roles) if principal else (),
            ip=self.origin.ip,
            user_agent=self.origin.user_agent,
            request_id=self.origin.request_id,
            operator=self.operator,
        )


# Operators' commands act as the system: whoever can run them already controls the host and
# its secrets.
OPERATOR = Actor(user=None)


def operator(command: str) -> Actor:
    """The system, acting through ``command`` run by this OS user (named from the process's
    real uid, not from $USER, which the environment can say anything in)."""
    uid = os.getuid()
    try:
        os_user = pwd.getpwuid(uid).pw_name
    except KeyError:  # a uid with no passwd entry, as in some containers
        os_user = f"uid {uid}"
    return Actor(user=None, operator={"command": command, "os_user": os_user})
