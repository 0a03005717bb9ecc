"""Errors particular to identity and decisions; the generic ones live in core.errors."""

from __future__ import annotations

from core.errors import Conflict, Forbidden, NotFound


class IllegalTransition(Conflict):
    """The request's state does not allow the action; the message names both."""

    code = "illegal_transition"


class PassportRefused(Forbidden):
    """A presented passport or visa failed a check; the message and details say which and why."""

    code = "passport_refused"


class VisasNotIssued(NotFound):
    """This service has no visa signing key configured, so it issues no visas."""

    code = "visas_not_issued"
