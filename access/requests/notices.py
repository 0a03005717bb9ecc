"""Telling whoever must act next that a request moved: the bridge from the workflow's use
cases to the email composers (access/notifications/composers.py), inside the use case's
transaction.

The composers link to pages, so they need the service's public URL: the app builds one
``Notices`` from its settings and hands it to the use cases that move a request. Called
without one (a script, a unit test of a use case), they queue no email: there would be no
link to give.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity.models import User
from access.models import Grant
from access.notifications import composers
from access.requests.models import AccessRequest, RequestQuestion
from access.requests.workflow import RequestState


@dataclass(frozen=True)
class Notices:
    public_url: str

    def tell_next_party(self, session: Session, request: AccessRequest, now: datetime) -> None:
        """Queue the email the request's new state calls for, if it calls for one: submitted
        → its signing officials; endorsed → its committees; returned → the applicant, with
        the questions to answer; approved or rejected → the applicant."""
        state = RequestState(request.state)
        if state is RequestState.SUBMITTED:
            composers.request_submitted(session, request, now, public_url=self.public_url)
        elif state is RequestState.ENDORSED:
            composers.request_endorsed(session, request, now, public_url=self.public_url)
        elif state is RequestState.RETURNED:
            composers.request_returned(
                session, request, now, public_url=self.public_url,
                note="\n".join(f"- {q}" for q in _open_questions(session, request)))
        elif state in (RequestState.APPROVED, RequestState.REJECTED):
            composers.request_decided(session, request, now, public_url=self.public_url)

    def tell_of_revocation(self, session: Session, request: AccessRequest, reason: str,
                           ended_grant_ids: list[int], now: datetime) -> None:
        """Queue the revocation notice to the applicant and every holder of an ended grant."""
        holders = session.scalars(select(User).join(Grant, Grant.user_id == User.id)
                                  .where(Grant.id.in_(ended_grant_ids)))
        composers.request_revoked(session, request, holders, reason, now,
                                  public_url=self.public_url)


def _open_questions(session: Session, request: AccessRequest) -> list[str]:
    return list(session.scalars(select(RequestQuestion.question).where(
        RequestQuestion.request_id == request.id,
        RequestQuestion.review_round == request.review_round,
        RequestQuestion.answer.is_(None)).order_by(RequestQuestion.id)))
