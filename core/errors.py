"""Domain errors raised by use cases; app.py maps them to HTTP in one place.

A refusal can carry an audit note: the transaction that refused is rolled back, and the
note is then written on its own, so a denied attempt is on record even though nothing changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RefusalNote:
    """What to put on the audit record for a refused action."""

    action: str
    target_type: str | None = None
    target_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


class DomainError(Exception):
    status = 400
    code = "bad_request"
    retry_after: int | None = None  # seconds, sent as Retry-After (a 429 or a 503)

    def __init__(
        self,
        message: str,
        *,
        details: Mapping[str, Any] | None = None,
        refusal: RefusalNote | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details: Mapping[str, Any] = details or {}
        self.refusal = refusal


class InvalidInput(DomainError):
    status = 400
    code = "invalid_input"


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Unavailable(DomainError):
    """A part of the service is behind or away; the same request may succeed later."""

    status = 503
    code = "unavailable"
