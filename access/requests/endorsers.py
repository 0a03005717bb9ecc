"""Whether anyone can endorse a request: its applicant needs an institution, and that
institution a signing official other than the people on the request.

Submitting without one is refused with a 409 that says whom to ask, rather than left waiting
where nobody looks; admins list the requests stuck for this reason (requests/admin_list.py),
to fix the institution or appoint an official.
"""

from __future__ import annotations

from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity.models import Role, RoleAssignment
from access.requests.models import AccessRequest
from audit.log.actions import AuditAction
from core.errors import Conflict, RefusalNote


def require_endorser(session: Session, request: AccessRequest) -> None:
    """409 naming whom to ask, audited as a refusal, when nobody could endorse the request."""
    applicant = request.applicant
    institution = applicant.institution
    if institution is None:
        _refuse(request, "no_institution",
                "Your account has no institution, so no signing official can endorse this "
                "request: ask an administrator to set your institution, then submit again.")
    people = {applicant.id} | {c.user_id for c in request.collaborators}
    officials = session.scalars(
        select(RoleAssignment.user_id).where(
            RoleAssignment.role == Role.SIGNING_OFFICIAL.value,
            RoleAssignment.institution_id == institution.id,
        )
    ).all()
    if not set(officials) - people:
        _refuse(request, "no_signing_official",
                f"Your institution, {institution.name}, has no signing official who "
                "could endorse this request: ask an administrator to appoint one, then "
                "submit again.")


def _refuse(request: AccessRequest, reason: str, message: str) -> NoReturn:
    applicant = request.applicant
    details = {"state": request.state, "action": "submit", "reason": reason,
               "institution_id": applicant.institution_id, "ask": "an administrator"}
    raise Conflict(message, details=details, refusal=RefusalNote(
        AuditAction.REQUEST_REFUSED, "access_request", str(request.id), details))
