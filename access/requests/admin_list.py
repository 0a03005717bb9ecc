"""Every request, for administrators: filtered by state, dataset, committee, applicant and
filing date, or to the ones stuck before endorsement, newest first in keyset pages.

"Stuck" is a request before endorsement that no signing official could endorse: its
applicant has no institution, or the institution has no signing official but the people on
the request. Submitting one is refused (requests/endorsement.py), and nobody's queue shows
it, so only an admin can unblock it (set the institution, appoint an official).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from access.identity.actor import Actor
from access.identity.models import Role, RoleAssignment, User, email_is
from access.requests.models import AccessRequest, RequestCollaborator, RequestedDataset
from access.requests.workflow import RequestState
from access.roles import require_admin

PAGE_SIZE = 50
# A stuck request has not reached a signing official yet, or waits for one.
BEFORE_ENDORSEMENT = (RequestState.DRAFT, RequestState.RETURNED, RequestState.SUBMITTED)


@dataclass(frozen=True)
class RequestFilter:
    state: str | None = None
    dataset_id: int | None = None
    committee_id: int | None = None
    applicant: str | None = None  # part of the name, or the whole email address or subject
    filed_from: date | None = None  # inclusive days
    filed_to: date | None = None
    stuck: bool = False


@dataclass(frozen=True)
class RequestPage:
    requests: list[AccessRequest]
    next_before: int | None  # the ``before`` of the next (older) page


def list_all_requests(session: Session, actor: Actor, filters: RequestFilter, *,
                      before: int | None = None, limit: int = PAGE_SIZE) -> RequestPage:
    require_admin(actor, "request_list")
    query = (select(AccessRequest).join(User, User.id == AccessRequest.applicant_id)
             .where(*_conditions(session, filters)).order_by(AccessRequest.id.desc())
             .limit(limit + 1))
    if before is not None:
        query = query.where(AccessRequest.id < before)
    found = list(session.scalars(query))
    page = found[:limit]
    return RequestPage(page, page[-1].id if len(found) > limit else None)


def _conditions(session: Session, filters: RequestFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if filters.state is not None:
        found.append(AccessRequest.state == filters.state)
    if filters.dataset_id is not None:
        found.append(_asks_for(RequestedDataset.dataset_id == filters.dataset_id))
    if filters.committee_id is not None:
        found.append(_asks_for(RequestedDataset.committee_id == filters.committee_id))
    if filters.applicant is not None:
        text = filters.applicant.strip()
        found.append(or_(User.name.icontains(text, autoescape=True), User.subject == text,
                         email_is(session, text)))
    if filters.filed_from is not None:
        found.append(AccessRequest.created_at >= _start_of(filters.filed_from))
    if filters.filed_to is not None:
        found.append(AccessRequest.created_at < _start_of(filters.filed_to + timedelta(days=1)))
    if filters.stuck:
        found.append(stuck_before_endorsement())
    return found


def stuck_requests(session: Session, actor: Actor) -> list[AccessRequest]:
    """Every stuck request, oldest first: each is a problem to fix, so they are few."""
    require_admin(actor, "request_list")
    return list(session.scalars(
        select(AccessRequest).join(User, User.id == AccessRequest.applicant_id)
        .where(stuck_before_endorsement()).order_by(AccessRequest.id)))


def stuck_before_endorsement() -> ColumnElement[bool]:
    """Not endorsed yet, and no signing official of the applicant's institution but the
    applicant or a collaborator (with the applicant's ``User`` joined)."""
    official = aliased(RoleAssignment)
    has_official = exists(select(official.id).where(
        official.role == Role.SIGNING_OFFICIAL.value,
        official.institution_id == User.institution_id,
        official.user_id != AccessRequest.applicant_id,
        ~exists(select(RequestCollaborator.id).where(
            RequestCollaborator.request_id == AccessRequest.id,
            RequestCollaborator.user_id == official.user_id))))
    return and_(AccessRequest.state.in_([s.value for s in BEFORE_ENDORSEMENT]),
                or_(User.institution_id.is_(None), ~has_official))


def _asks_for(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(select(RequestedDataset.id).where(
        RequestedDataset.request_id == AccessRequest.id, condition))


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)
