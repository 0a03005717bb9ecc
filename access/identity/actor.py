"""The actor of a use case: the signed-in user (if any), how they proved it, and from where."""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping
from dataclasses import dataclass

from access.identity.models import Role, User
from audit.log.append import AuditActor
from core.errors import NotAuthenticated


@dataclass(frozen=True)
class Origin:
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class Actor:
    user: User | None
    origin: Origin = Origin()
    token_id: int | None = None
    # The token's scopes (core/scopes.py); None for a session, which is not scoped.
    scopes: frozenset[str] | None = None
    # Set for an operator's command on the host: {"command", "os_user"} (see operator()).
    operator: Mapping[str, str] | None = None

    def require_user(self) -> User:
        if self.user is None:
            raise NotAuthenticated("Sign in, or send a personal API token as a Bearer token.")
        return self.user

    def has_role(self, role: Role) -> bool:
        return self.user is not None and any(a.role == role for a in self.user.roles)

    def audit(self) -> AuditActor:
        user = self.user
        return AuditActor(
            user_id=user.id if user else None,
            issuer=user.issuer if user else None,
            subject=user.subject if user else None,
            token_id=self.token_id,
            roles=tuple(assignment.role for assignment in user.roles) if user else (),
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
