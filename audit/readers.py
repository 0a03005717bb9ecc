"""Who may read the audit log.

``audit`` sits below ``access``, so it cannot look up users or roles itself: the app
passes ``audit.install`` a function that turns the current request into an
``AuditReader`` (built by ``reader_for``) or raises NotAuthenticated / Forbidden; every
audit page and API route starts with ``current_reader()`` (audit/extensions.py). Readers
only read: no audit route changes the log, except that exports are themselves recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit.log.actions import AuditAction
from audit.log.append import AuditActor
from core.errors import Forbidden, RefusalNote

READER_ROLES = frozenset({"auditor", "admin"})


@dataclass(frozen=True)
class AuditReader:
    user_id: int
    roles: frozenset[str]
    # Who is reading and from where, for the events their exports write.
    actor: AuditActor


def reader_for(user_id: int, roles: frozenset[str], actor: AuditActor, *, path: str
               ) -> AuditReader:
    """The reader, if one of their global roles may read the log; else a recorded 403."""
    if not roles & READER_ROLES:
        raise Forbidden(
            "Only auditors and administrators may read the audit log.",
            refusal=RefusalNote(AuditAction.AUDIT_REFUSED, details={"path": path[:200]}),
        )
    return AuditReader(user_id, roles, actor)
