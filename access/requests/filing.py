"""Filing a request: its content, datasets (each with the committee governing it) and the
internal collaborators it names. Used for new requests and for renewals alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from access.identity.models import User
from access.ports import DatasetDirectory
from access.requests.models import AccessRequest, RequestCollaborator, RequestedDataset
from access.requests.workflow import RequestState
from audit.log.actions import AuditAction
from audit.log.append import record_event
from core.errors import InvalidInput

# Request content besides the datasets and collaborators; revise may change any of it.
CONTENT_FIELDS = (
    "title", "research_use_statement", "non_technical_summary", "cloud_use_statement",
    "it_director_name", "it_director_email", "purpose_disease_ids", "purpose_health_medical",
    "purpose_methods_development", "purpose_population_origins", "purpose_commercial_use",
    "purpose_for_profit_organisation",
)


def create_request(
    session: Session,
    actor: Actor,
    *,
    title: str,
    research_use_statement: str,
    dataset_ids: Sequence[int],
    directory: DatasetDirectory,
    now: datetime,
    collaborator_emails: Sequence[str] = (),
    renewal_of: AccessRequest | None = None,
    progress_report: str | None = None,
    **content: Any,
) -> AccessRequest:
    user = actor.require_user()
    found = directory.lookup(session, dataset_ids)
    unknown = sorted(set(dataset_ids) - set(found))
    if unknown:
        raise InvalidInput("Some datasets do not exist.", details={"dataset_ids": unknown})
    open_ones = sorted(ref.id for ref in found.values() if ref.committee_id is None)
    if open_ones:
        raise InvalidInput(
            "Open-access datasets need no request; download them directly.",
            details={"dataset_ids": open_ones},
        )
    collaborators = _internal_collaborators(session, user, collaborator_emails)
    request = AccessRequest(
        applicant_id=user.id, title=title, research_use_statement=research_use_statement,
        state=RequestState.DRAFT.value, created_at=now, updated_at=now,
        renewal_of_id=renewal_of.id if renewal_of else None, progress_report=progress_report,
        **content_fields(content),
    )
    request.datasets = [
        RequestedDataset(dataset_id=ref.id, committee_id=ref.committee_id)
        for ref in sorted(found.values(), key=lambda ref: ref.id)
    ]
    request.collaborators = [RequestCollaborator(user_id=c.id, invited_at=now)
                             for c in collaborators]
    session.add(request)
    session.flush()
    record_event(
        session, actor.audit(), AuditAction.REQUEST_CREATE, now=now,
        target_type="access_request", target_id=request.id,
        details={"dataset_ids": [rd.dataset_id for rd in request.datasets],
                 "collaborator_ids": [c.id for c in collaborators],
                 "renewal_of": request.renewal_of_id},
    )
    return request


def _internal_collaborators(session: Session, applicant: User, emails: Sequence[str]
                            ) -> list[User]:
    """Collaborators must be users of the applicant's own institution (internal ones)."""
    wanted = sorted({email.strip().lower() for email in emails})
    if not wanted:
        return []
    found = list(session.scalars(
        select(User).where(User.institution_id == applicant.institution_id,
                           User.institution_id.is_not(None), User.id != applicant.id)
    ))
    by_email = {(u.email or "").lower(): u for u in found}
    missing = [email for email in wanted if email not in by_email]
    if missing:
        raise InvalidInput(
            "Collaborators must be registered users of your institution (and not yourself).",
            details={"collaborator_emails": missing},
        )
    return [by_email[email] for email in wanted]


def content_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    unexpected = set(values) - set(CONTENT_FIELDS)
    if unexpected:
        raise InvalidInput("Unknown request fields.", details={"fields": sorted(unexpected)})
    return dict(values)
