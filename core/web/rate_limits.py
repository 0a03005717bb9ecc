"""Rate limits on what attackers repeat: sign-ins, bad tokens, bad download signatures,
URL issuance, DRS and the demo's identity provider.

Counting is done by ``limits`` (the library under Flask-Limiter): a moving window in
memory for one process, or in Redis so that every instance counts against the same limit.
Two kinds of limit: ``enforce`` counts every call (sign-in starts outbound work however it
ends); ``refuse_if_blocked`` and ``count_failure`` count only failures (a good token is
never slowed down by someone else's bad ones). A refusal is a 429 in the one error shape
with ``Retry-After``; the first in each window per client is audited (``rate:limited``,
which the refusal alerts count), not every one, so a flood cannot flood the log too.
When the counter store is unreachable the limits step aside, loudly in the log:
availability of the service matters more than this extra layer.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

from flask import Flask, current_app, request
from limits import RateLimitItem, parse, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from core.errors import DomainError, RefusalNote

log = logging.getLogger(__name__)
_KEY = "custodian.rate_limits"
RATE_LIMITED = "rate:limited"  # audit/log/actions.py names it too (core cannot import audit)
# One audit event per limit, client and minute at most.
_AUDIT_ONCE = parse("1/minute")


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, refusal: RefusalNote | None) -> None:
        super().__init__(message, details={"retry_after": retry_after}, refusal=refusal)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RateLimits:
    limiter: MovingWindowRateLimiter | None  # None: limits switched off
    items: Mapping[str, list[RateLimitItem]]

    def _over(self, name: str, key: str, *, count: bool) -> int | None:
        """Seconds until the client may try again, or None when within every limit."""
        if self.limiter is None:
            return None
        try:
            for item in self.items[name]:
                allowed = (self.limiter.hit(item, name, key) if count
                           else self.limiter.test(item, name, key))
                if not allowed:
                    reset = self.limiter.get_window_stats(item, name, key).reset_time
                    return max(1, math.ceil(reset - time.time()))
        except Exception:  # the counter store is down: step aside, say so
            log.error("rate limit store unavailable; %s not enforced", name, exc_info=True)
        return None

    def _first_refusal(self, name: str, key: str) -> bool:
        try:
            return self.limiter is not None and self.limiter.hit(_AUDIT_ONCE, "audit", name,
                                                                 key)
        except Exception:
            return False


def install(app: Flask, *, enabled: bool, storage_uri: str, limits: Mapping[str, str]) -> None:
    limiter = MovingWindowRateLimiter(storage_from_string(storage_uri)) if enabled else None
    app.extensions[_KEY] = RateLimits(limiter, {name: list(parse_many(value))
                                                for name, value in limits.items()})


def _limits() -> RateLimits:
    found: RateLimits = current_app.extensions[_KEY]
    return found


def client_key() -> str:
    return f"ip:{request.remote_addr or 'unknown'}"


def enforce(name: str, key: str | None = None) -> None:
    """Count this call against limit ``name``; 429 once it is over."""
    _refuse(name, key or client_key(), _limits()._over(name, key or client_key(), count=True))


def refuse_if_blocked(name: str, key: str | None = None) -> None:
    """429 when earlier failures used limit ``name`` up; this call counts nothing."""
    _refuse(name, key or client_key(), _limits()._over(name, key or client_key(), count=False))


def count_failure(name: str, key: str | None = None) -> None:
    _limits()._over(name, key or client_key(), count=True)


def _refuse(name: str, key: str, retry_after: int | None) -> None:
    if retry_after is None:
        return
    note = None
    if _limits()._first_refusal(name, key):
        note = RefusalNote(RATE_LIMITED, details={"limit": name, "path": request.path[:200]})
    raise RateLimited(f"Too many requests ({name.replace('_', ' ')}). Try again in "
                      f"{retry_after} seconds.", retry_after=retry_after, refusal=note)
