"""Who may read the audit log, and how the web layer tells the audit package who is asking.

``audit`` sits below ``access``, so it cannot look up users or roles itself. app.py
registers, under ``READER_PROVIDER``, a function that turns the current request into an
``AuditReader`` or raises NotAuthenticated / Forbidden; every audit page and API route
starts with ``current_reader()``. Readers only read: no audit route changes the log,
except that exports are themselves recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from audit.actions import AuditAction
from audit.services import AuditActor
from core.errors import DomainError, Forbidden, RefusalNote

READER_PROVIDER = "custodian.audit_reader"
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


def current_reader() -> AuditReader:
    provider: Callable[[], AuditReader] = current_app.extensions[READER_PROVIDER]
    return provider()


def may_read_audit() -> bool:
    """For the navigation: whether to show the Audit link (nothing is recorded)."""
    try:
        current_reader()
    except DomainError:
        return False
    return True
