"""A request's history in plain words, from the audit log: who did what, and what they said.

The log is the record (every move writes its event there), so the timeline cannot disagree
with it. Votes and conflict declarations are the committee's deliberation: a reader who
does not deliberate (the applicant, the signing official) sees that a member voted, not
who or how, and no conflicts at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity.models import User
from access.requests.models import RequestQuestion
from audit.log.models import AuditEvent


@dataclass(frozen=True)
class Step:
    at: datetime
    who: str  # a name with the part they played, or "The service"
    what: str  # the rest of the sentence
    said: list[str]  # comments, reasons, rationales or questions, as written


def request_timeline(session: Session, request_id: int, *, deliberating: bool) -> list[Step]:
    rows = session.execute(
        select(
            AuditEvent.occurred_at, AuditEvent.action, AuditEvent.details, AuditEvent.actor_user_id
        )
        .where(
            AuditEvent.target_type == "access_request",
            AuditEvent.target_id == str(request_id),
            AuditEvent.outcome == "success",
        )
        .order_by(AuditEvent.seq)
    ).all()
    actor_ids = {row.actor_user_id for row in rows if row.actor_user_id is not None}
    names = (
        {
            user.id: user.display_name
            for user in session.scalars(select(User).where(User.id.in_(actor_ids)))
        }
        if actor_ids
        else {}
    )
    questions = {
        q.id: q.question
        for q in session.scalars(
            select(RequestQuestion).where(RequestQuestion.request_id == request_id)
        )
    }
    steps = []
    for at, action, details, actor_id in rows:
        said = details if isinstance(details, dict) else {}
        step = _sentence(action.removeprefix("request:"), said, questions, deliberating)
        if step is None:
            continue
        part, what, words = step
        if actor_id is None:
            who = "The service"
        elif part == "a committee member" and not deliberating:
            who = "A committee member"
        else:
            who = f"{names.get(actor_id, 'Someone')} ({part})"
        steps.append(Step(at, who, what, [w for w in words if w]))
    return steps


def _sentence(
    action: str, said: Mapping[str, Any], questions: Mapping[int, str], deliberating: bool
) -> tuple[str, str, list[str]] | None:
    """(the actor's part, what they did, what they said); None: not for this reader."""
    if action == "create":
        renews = said.get("renewal_of")
        return (
            "applicant",
            f"drafted a renewal of request {renews}."
            if renews
            else "started the request as a draft.",
            [],
        )
    if action == "submit":
        again = " again" if said.get("round", 1) > 1 else ""
        return ("applicant", f"submitted the request{again}; it went to the signing official.", [])
    if action == "revise":
        fields = ", ".join(f.replace("_", " ") for f in said.get("fields", []))
        return "applicant", f"revised the request ({fields or 'no changes'}).", []
    if action == "answer":
        return "applicant", "answered the questions.", []
    if action == "withdraw":
        return "applicant", "withdrew the request.", []
    if action == "endorse":
        return (
            "signing official",
            "endorsed the request; it went to the committee.",
            [said.get("comment", "")],
        )
    if action == "decline":
        return (
            "signing official",
            "declined the request and sent it back.",
            [said.get("reason", "")],
        )
    if action == "vote":
        if not deliberating:
            return "a committee member", "voted.", []
        vote = said.get("vote")
        how = {"approve": "voted to approve", "reject": "voted to reject"}.get(
            str(vote), "abstained"
        )
        return "a committee member", f"{how}.", [said.get("rationale", "")]
    if action == "declare_conflict":
        if not deliberating:
            return None
        return (
            "a committee member",
            "declared a conflict of interest and stepped aside.",
            [said.get("reason", "")],
        )
    if action in ("approve", "reject"):
        days = f" for {said['days']} days" if action == "approve" and said.get("days") else ""
        verb = "approved" if action == "approve" else "rejected"
        whole = "" if said.get("to") in ("approved", "rejected") else " their committee's part"
        return "committee chair", f"{verb}{whole}{days}.", [said.get("reason", "")]
    if action == "return":
        asked = [questions.get(q, "") for q in said.get("question_ids", [])]
        return "committee chair", "returned the request with questions.", asked
    if action == "revoke":
        return "committee chair", "revoked access.", [said.get("reason", "")]
    if action == "close":
        return (
            "applicant",
            "closed out the project, attesting every copy was destroyed.",
            [said.get("statement", "")],
        )
    if action == "expire":
        return "service", "marked the request expired: its approval period ended.", []
    if action == "renew":
        return "applicant", f"filed renewal request {said.get('renewal_id')}.", []
    if action == "collaborator_accept":
        return "collaborator", "joined the request as a collaborator.", []
    return "someone", action.replace("_", " ") + ".", []


@dataclass(frozen=True)
class Endorsement:
    by: str
    at: datetime
    comment: str


def latest_endorsement(session: Session, request_id: int) -> Endorsement | None:
    """The signing official's word the committee reads: the last endorsement's comment."""
    row = session.execute(
        select(AuditEvent.occurred_at, AuditEvent.details, AuditEvent.actor_user_id)
        .where(
            AuditEvent.target_type == "access_request",
            AuditEvent.target_id == str(request_id),
            AuditEvent.action == "request:endorse",
            AuditEvent.outcome == "success",
        )
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    official = session.get(User, row.actor_user_id) if row.actor_user_id else None
    said = row.details if isinstance(row.details, dict) else {}
    return Endorsement(
        official.display_name if official else "The signing official",
        row.occurred_at,
        str(said.get("comment", "")),
    )
