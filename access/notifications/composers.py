"""Who must act next, told by email: one composer per workflow event, queued in the outbox.

Call each composer inside the use case's transaction, after the state has moved, so the
email exists only if the action committed (see access/notifications/outbox.py). Public interface:

- ``request_submitted(session, request, now, *, public_url)`` → the signing officials of
  the applicant's institution (role ``signing_official`` scoped to ``User.institution_id``).
- ``request_endorsed(session, request, now, *, public_url)`` → the members and chair of
  every committee governing one of the request's datasets (never the applicant).
- ``request_returned(session, request, now, *, public_url, note=None)`` → the applicant.
- ``request_decided(session, request, now, *, public_url)`` → the applicant; reads
  ``request.state`` ("approved" or "rejected"), ``decision_reason`` and ``approved_days``.
- ``request_revoked(session, request, holders, reason, now, *, public_url)`` → the
  applicant and the collaborators whose grants the revocation ended.
- ``queue_expiry_reminders(session, now, *, public_url, directory, days_before=(30, 7))``
  → each holder of a live grant ending within a window; once per grant per window
  (``flask notify remind`` runs it daily).

Each returns the emails it queued. ``public_url`` is the PUBLIC_URL setting; links point at
pages, and no email ever carries a token or a signed URL. Users without an email address
are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity.models import Role, RoleAssignment, User
from access.models import CommitteeMembership, Grant
from access.notifications.models import OutboxEmail
from access.notifications.outbox import enqueue_email
from access.ports import DatasetDirectory
from access.requests.models import AccessRequest

SIGN_OFF = "\n\n-- \nCustodian, the controlled-access data service. You receive this because " \
           "your role asks you to act; the link needs you to sign in."


def request_submitted(session: Session, request: AccessRequest, now: datetime, *,
                      public_url: str) -> list[OutboxEmail]:
    applicant = request.applicant
    officials: list[User] = []
    if applicant.institution_id is not None:
        officials = list(session.scalars(select(User).where(User.id.in_(
            select(RoleAssignment.user_id).where(
                RoleAssignment.role == Role.SIGNING_OFFICIAL.value,
                RoleAssignment.institution_id == applicant.institution_id)))))
    body = (f"{applicant.display_name} ({applicant.institution_name}) submitted data-access "
            f"request #{request.id}, \"{request.title}\".\n\nAs a signing official of "
            f"{applicant.institution_name}, please read it and endorse or decline it: "
            f"{_link(public_url, request)}")
    return _send(session, officials, f"Request #{request.id} needs your endorsement", body, now)


def request_endorsed(session: Session, request: AccessRequest, now: datetime, *,
                     public_url: str) -> list[OutboxEmail]:
    committee_ids = {requested.committee_id for requested in request.datasets}
    reviewers = list(session.scalars(select(User).where(
        User.id.in_(select(CommitteeMembership.user_id)
                    .where(CommitteeMembership.committee_id.in_(committee_ids))),
        User.id != request.applicant_id)))
    body = (f"Data-access request #{request.id}, \"{request.title}\", from "
            f"{request.applicant.display_name} ({request.applicant.institution_name}), was "
            f"endorsed by their signing official and awaits your committee's review.\n\nRead "
            f"it, the automatic data-use match and the votes so far, then vote or decide: "
            f"{_link(public_url, request)}")
    return _send(session, reviewers, f"Request #{request.id} awaits your committee's review",
                 body, now)


def request_returned(session: Session, request: AccessRequest, now: datetime, *,
                     public_url: str, note: str | None = None) -> list[OutboxEmail]:
    said = f"\n\nThe reviewers wrote:\n{note}" if note else ""
    body = (f"Your data-access request #{request.id}, \"{request.title}\", was returned to you "
            f"for revision.{said}\n\nNext: revise the request and submit it again: "
            f"{_link(public_url, request)}")
    return _send(session, [request.applicant], f"Request #{request.id} was returned for revision",
                 body, now)


def request_decided(session: Session, request: AccessRequest, now: datetime, *,
                    public_url: str) -> list[OutboxEmail]:
    if request.state == "approved":
        subject = f"Request #{request.id} was approved"
        until = ((request.decided_at or now) + timedelta(days=request.approved_days or 0)
                 ).strftime("%Y-%m-%d")
        next_step = (f"Your access lasts {request.approved_days} days, until {until}.\n\n"
                     "Next: accept the data-use agreement of each dataset (each collaborator "
                     "must accept it too), then download the files from the request page: "
                     f"{_link(public_url, request)}")
    elif request.state == "rejected":
        subject = f"Request #{request.id} was not approved"
        next_step = ("Next: you may file a new request that answers the committee's reasons. "
                     f"The request: {_link(public_url, request)}")
    else:
        raise ValueError(f"request {request.id} is {request.state}, not decided")
    reason = f"The committee's reason: {request.decision_reason}\n\n" \
        if request.decision_reason else ""
    body = (f"The committee decided on your data-access request #{request.id}, "
            f"\"{request.title}\": {request.state}.\n\n{reason}{next_step}")
    return _send(session, [request.applicant], subject, body, now)


def request_revoked(session: Session, request: AccessRequest, holders: Iterable[User],
                    reason: str, now: datetime, *, public_url: str) -> list[OutboxEmail]:
    """Everyone whose access ended: the applicant and each collaborator who held a grant."""
    subject = f"Access under request #{request.id} was revoked"
    body = (f"The data access committee revoked data-access request #{request.id}, "
            f"\"{request.title}\", with immediate effect: no download link is issued under it "
            f"any more.\n\nThe committee's reason: {reason}\n\nNext: stop using the data and "
            "delete every copy you hold, as the data-use agreement requires. If you think this "
            f"is a mistake, reply to the committee. The request: {_link(public_url, request)}")
    return _send(session, [request.applicant, *holders], subject, body, now)


def queue_expiry_reminders(
    session: Session, now: datetime, *, public_url: str, directory: DatasetDirectory,
    days_before: Sequence[int] = (30, 7),
) -> list[OutboxEmail]:
    """The nearest window a grant is in decides its reminder; each window reminds once."""
    windows = sorted(set(days_before))
    if not windows:
        return []
    grants = list(session.scalars(select(Grant).where(
        Grant.revoked_at.is_(None), Grant.ends_at > now,
        Grant.ends_at <= now + timedelta(days=windows[-1])).order_by(Grant.id)))
    datasets = directory.lookup(session, {grant.dataset_id for grant in grants})
    queued: list[OutboxEmail] = []
    for grant in grants:
        window = next(days for days in windows if grant.ends_at <= now + timedelta(days=days))
        holder = session.get(User, grant.user_id)
        ref = datasets.get(grant.dataset_id)
        what = f"{ref.name} ({ref.accession})" if ref else f"dataset {grant.dataset_id}"
        ends = grant.ends_at.strftime("%Y-%m-%d %H:%M UTC")
        body = (f"Your access to {what} ends on {ends}, within {window} days.\n\nTo keep "
                f"working with the data, renew the request before then: "
                f"{public_url}/requests/{grant.request_id}\nOtherwise, close the project out "
                "and delete your copies of the data when access ends, as the data-use "
                "agreement requires.")
        queued += _send(session, [holder] if holder else [], f"Your access ends on {ends[:10]}",
                        body, now, dedupe_key=f"grant-expiry:{grant.id}:{window}d")
    return queued


def _link(public_url: str, request: AccessRequest) -> str:
    return f"{public_url}/requests/{request.id}"


def _send(session: Session, recipients: Iterable[User], subject: str, body: str,
          now: datetime, dedupe_key: str | None = None) -> list[OutboxEmail]:
    queued = []
    for user in {user.id: user for user in recipients}.values():
        if not user.email:
            continue
        email = enqueue_email(session, to=user.email, subject=subject,
                              body=f"Dear {user.display_name},\n\n{body}{SIGN_OFF}", now=now,
                              dedupe_key=dedupe_key)
        if email is not None:
            queued.append(email)
    return queued
