"""The actor of a use case: the signed-in user (if any), how they proved it, and from where."""

from __future__ import annotations

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
        )


# Operators' commands act as the system: whoever can run them already controls the host and
# its secrets.
OPERATOR = Actor(user=None)
