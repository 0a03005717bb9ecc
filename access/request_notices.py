"""Telling whoever must act next that a request moved: the bridge from the workflow's use
cases to the email composers (access/notify.py), inside the use case's transaction.

The composers link to pages, so they need the service's public URL; the app attaches it to
every session it makes (``attach_public_url``). A session made without it (a script, a
unit test of a use case) queues no email: there would be no link to give.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from access import notify
from access.models import AccessRequest, Grant, RequestQuestion, User
from access.workflow import RequestState

PUBLIC_URL = "custodian.public_url"


def attach_public_url(factory: sessionmaker[Session], public_url: str) -> None:
    factory.configure(info={**factory.kw.get("info", {}), PUBLIC_URL: public_url})


def tell_next_party(session: Session, request: AccessRequest, now: datetime) -> None:
    """Queue the email the request's new state calls for, if it calls for one: submitted →
    its signing officials; endorsed → its committees; returned → the applicant, with the
    questions to answer; approved or rejected → the applicant."""
    public_url: str | None = session.info.get(PUBLIC_URL)
    if public_url is None:
        return
    state = RequestState(request.state)
    if state is RequestState.SUBMITTED:
        notify.request_submitted(session, request, now, public_url=public_url)
    elif state is RequestState.ENDORSED:
        notify.request_endorsed(session, request, now, public_url=public_url)
    elif state is RequestState.RETURNED:
        notify.request_returned(session, request, now, public_url=public_url,
                                note="\n".join(f"- {q}" for q in _open_questions(session, request)))
    elif state in (RequestState.APPROVED, RequestState.REJECTED):
        notify.request_decided(session, request, now, public_url=public_url)


def tell_of_revocation(session: Session, request: AccessRequest, reason: str,
                       ended_grant_ids: list[int], now: datetime) -> None:
    """Queue the revocation notice to the applicant and every holder of an ended grant."""
    public_url: str | None = session.info.get(PUBLIC_URL)
    if public_url is None:
        return
    holders = session.scalars(select(User).join(Grant, Grant.user_id == User.id)
                              .where(Grant.id.in_(ended_grant_ids)))
    notify.request_revoked(session, request, holders, reason, now, public_url=public_url)


def _open_questions(session: Session, request: AccessRequest) -> list[str]:
    return list(session.scalars(select(RequestQuestion.question).where(
        RequestQuestion.request_id == request.id,
        RequestQuestion.review_round == request.review_round,
        RequestQuestion.answer.is_(None)).order_by(RequestQuestion.id)))
