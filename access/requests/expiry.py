"""Lazy expiry: an approved request whose grants have all ended is marked expired when read.

Downloads never wait for this: URL issuance checks each grant's end date itself. The state
only catches up so that people and lists see the truth, and the change is audited (as done
by the service, not by whoever happened to look).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from access.models import Grant
from access.requests.models import AccessRequest
from access.requests.workflow import RequestAction, RequestState, next_state
from audit.log.actions import AuditAction
from audit.log.append import SYSTEM, record_event


def expire_if_lapsed(session: Session, request: AccessRequest, now: datetime) -> bool:
    return bool(expire_lapsed(session, [request], now))


def expire_lapsed(session: Session, requests: Iterable[AccessRequest], now: datetime
                  ) -> list[AccessRequest]:
    """Expire those of the requests whose last unrevoked grant has ended (one query)."""
    approved = {r.id: r for r in requests if r.state == RequestState.APPROVED.value}
    if not approved:
        return []
    last_end = dict(session.execute(
        select(Grant.request_id, func.max(Grant.ends_at))
        .where(Grant.request_id.in_(approved), Grant.revoked_at.is_(None))
        .group_by(Grant.request_id)
    ).all())
    expired = []
    for request_id, request in sorted(approved.items()):
        ends = last_end.get(request_id)
        if ends is not None and _aware(ends) > now:
            continue
        request.state = next_state(RequestState.APPROVED, RequestAction.EXPIRE).value
        request.updated_at = now
        record_event(
            session, SYSTEM, AuditAction.REQUEST_EXPIRE, now=now,
            target_type="access_request", target_id=request_id,
            details={"from": RequestState.APPROVED.value, "to": request.state,
                     "grants_ended_at": _aware(ends).isoformat() if ends else None},
        )
        expired.append(request)
    return expired


def _aware(moment: datetime) -> datetime:
    """A plain value from the database is naive UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
