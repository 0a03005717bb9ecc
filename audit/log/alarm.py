"""The alarm raised when audit writes fail: a counter for the scraper, a flag for /readyz.

A failed audit write already fails its action; the alarm tells the operators, who would
otherwise see only users' 500s. The flag is in-process state, on purpose: each worker
reports what it saw itself, it needs no storage that could fail along with the audit
tables, and the next audit write that commits in the same worker clears it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.orm import Session

from core.metrics import count_audit_write_failure

P = ParamSpec("P")
R = TypeVar("R")
_HOLDS_EVENTS = "custodian.audit_events_pending"
_failing = False


def writes_failing() -> bool:
    return _failing


def watched(write: Callable[Concatenate[Session, P], R]) -> Callable[Concatenate[Session, P], R]:
    """Wrap an audit write: a failure raises the alarm; a success marks its transaction."""

    @functools.wraps(write)
    def wrapper(session: Session, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            result = write(session, *args, **kwargs)
        except Exception:
            _raise_alarm()
            raise
        session.info[_HOLDS_EVENTS] = True
        return result

    return wrapper


def commit_audited(session: Session) -> None:
    """Commit; when the transaction holds audit events, its outcome is theirs."""
    global _failing
    holds_events = session.info.pop(_HOLDS_EVENTS, False)
    try:
        session.commit()
    except Exception:
        if holds_events:
            _raise_alarm()
        raise
    if holds_events:
        _failing = False


def _raise_alarm() -> None:
    global _failing
    _failing = True
    count_audit_write_failure()
