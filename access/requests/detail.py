"""One request as a given reader sees it: its committee parts, questions, votes, and the
actions open to that reader (what the pages offer as buttons and the API lists).

Votes and conflict declarations are the committees' deliberation: shown to their members,
admins and auditors, not to the applicant or the signing official.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from access.identity.models import Role
from access.models import Committee
from access.requests.models import AccessRequest, RequestQuestion
from access.requests.moves import standing_of
from access.requests.review import conflicts_of, part_decisions, votes_of
from access.requests.workflow import RequestAction, RequestState, allowed_actions, party_for


@dataclass(frozen=True)
class Part:
    committee_id: int
    committee_name: str
    dataset_ids: list[int]
    decision: str | None
    reason: str | None
    days: int | None
    decided_at: Any


def describe_request(session: Session, actor: Actor, request: AccessRequest) -> dict[str, Any]:
    standing = standing_of(session, actor, request)
    decisions = part_decisions(session, request)
    committee_ids = sorted({rd.committee_id for rd in request.datasets})
    names = {row.id: row.name for row in session.execute(
        select(Committee.id, Committee.name).where(Committee.id.in_(committee_ids)))}
    parts = []
    for committee_id in committee_ids:
        decided = decisions.get(committee_id)
        parts.append(Part(
            committee_id, names.get(committee_id, ""),
            [rd.dataset_id for rd in request.datasets if rd.committee_id == committee_id],
            decided.decision if decided else None, decided.reason if decided else None,
            decided.days if decided else None, decided.decided_at if decided else None))
    deliberating = bool(standing.member_of) or actor.has_role(Role.ADMIN) \
        or actor.has_role(Role.AUDITOR)
    return {
        "parts": parts,
        "questions": list(session.scalars(select(RequestQuestion).where(
            RequestQuestion.request_id == request.id).order_by(RequestQuestion.id))),
        "votes": votes_of(session, request) if deliberating else None,
        "conflicts": conflicts_of(session, request) if deliberating else None,
        "actions": [action.value for action in actions_for(session, actor, request)],
    }


def actions_for(session: Session, actor: Actor, request: AccessRequest) -> list[RequestAction]:
    standing = standing_of(session, actor, request)
    user = actor.user
    accepted = user is not None and any(
        c.user_id == user.id and c.accepted_at is not None for c in request.collaborators)
    return [action for action in allowed_actions(RequestState(request.state))
            if standing.is_party(party_for(action))
            and not (action is RequestAction.ACCEPT and accepted)]


@dataclass(frozen=True)
class Step:
    at: Any
    action: str
    from_state: str | None
    to_state: str | None
    by_service: bool


def request_timeline(session: Session, request_id: int) -> list[Step]:
    """The request's history from the audit log: what happened when, and the states passed.

    Only the action and the states: details (vote rationales, reasons) stay with the
    parts of the page that may show them.
    """
    from audit.log.models import AuditEvent

    rows = session.execute(
        select(AuditEvent.occurred_at, AuditEvent.action, AuditEvent.details,
               AuditEvent.actor_user_id)
        .where(AuditEvent.target_type == "access_request",
               AuditEvent.target_id == str(request_id), AuditEvent.outcome == "success")
        .order_by(AuditEvent.seq))
    return [Step(at, action.removeprefix("request:").replace("_", " "),
                 details.get("from") if isinstance(details, dict) else None,
                 details.get("to") if isinstance(details, dict) else None,
                 actor is None) for at, action, details, actor in rows]
