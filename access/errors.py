"""Errors particular to identity and decisions; the generic ones live in core.errors."""

from __future__ import annotations

from core.errors import Conflict


class IllegalTransition(Conflict):
    """The request's state does not allow the action; the message names both."""

    code = "illegal_transition"
