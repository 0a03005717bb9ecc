"""The email outbox: queue in the action's transaction, send later over SMTP, retry with backoff.

Public interface:

- ``enqueue_email(session, *, to, subject, body, now, dedupe_key=None)`` — adds a row in
  the caller's transaction, so an email exists if and only if the action committed. With a
  ``dedupe_key`` already queued (in any state) nothing is added and None is returned.
- ``send_due_emails(session_factory, mailer, *, now, ...)`` — what ``flask notify send``
  runs: claims due emails, sends each, records the outcome. Safe to run from several
  processes at once: rows are claimed under ``FOR UPDATE SKIP LOCKED`` (PostgreSQL) and
  by a conditional update that only one claimer can win (every backend), and a claim is
  a lease: a sender that dies mid-batch leaves its emails to be retried after the lease.
  Delivery is therefore at least once if a process dies between SMTP's answer and the
  commit that marks the email sent, and exactly once otherwise.
- ``SmtpMailer(settings)`` (sender.py) — the real sender (smtplib, STARTTLS, login).

A failed attempt counts in ``attempts``, stores ``last_error`` (the exception type and the
server's reply, never credentials) and moves ``next_attempt_at`` by an exponential backoff;
after ``max_attempts`` the email is marked ``failed`` and left for an operator.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from access.notifications.models import EmailStatus, OutboxEmail
from access.notifications.sender import SmtpMailer, describe_error

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
# How long a claim lasts: far longer than one batch takes, short enough to recover soon.
LEASE = timedelta(minutes=10)
BATCH = 50


def enqueue_email(
    session: Session, *, to: str, subject: str, body: str, now: datetime,
    dedupe_key: str | None = None,
) -> OutboxEmail | None:
    if dedupe_key is not None and session.scalar(
            select(OutboxEmail.id).where(OutboxEmail.dedupe_key == dedupe_key)) is not None:
        return None
    # A header never carries a line break: no header injection through a title or address.
    subject = " ".join(subject.split())[:300]
    email = OutboxEmail(to_address=to.strip(), subject=subject, body=body, dedupe_key=dedupe_key,
                        status=EmailStatus.PENDING.value, created_at=now, next_attempt_at=now,
                        attempts=0)
    try:
        with session.begin_nested():  # a concurrent twin with the same key: keep theirs
            session.add(email)
    except IntegrityError:
        return None
    return email


@dataclass(frozen=True)
class SendReport:
    sent: int
    retrying: int
    failed: int


def send_due_emails(
    session_factory: sessionmaker[Session], mailer: SmtpMailer, *, now: datetime,
    max_attempts: int = MAX_ATTEMPTS, batch: int = BATCH,
) -> SendReport:
    claimed = _claim(session_factory, now, batch)
    if not claimed:
        return SendReport(0, 0, 0)
    return _record(session_factory, claimed, _deliver(mailer, claimed), now, max_attempts)


def _deliver(mailer: SmtpMailer, claimed: list[_Claimed]) -> dict[int, str | None]:
    """Email id -> None when sent, else the error; ids missing were never tried."""
    outcomes: dict[int, str | None] = {}
    try:
        with mailer.connection() as sender:
            for email in claimed:
                try:
                    sender.send(email.to_address, email.subject, email.body)
                    outcomes[email.id] = None
                except (smtplib.SMTPException, OSError, ValueError) as exc:
                    # ValueError: an address the email library cannot put in a header.
                    outcomes[email.id] = describe_error(exc)
                    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
                        break  # the connection is gone: the rest wait for the next run
    except (smtplib.SMTPException, OSError) as exc:
        if not outcomes:  # could not connect (or log in): every email has this attempt
            return {email.id: describe_error(exc) for email in claimed}
    return outcomes


def _record(session_factory: sessionmaker[Session], claimed: list[_Claimed],
            outcomes: dict[int, str | None], now: datetime, max_attempts: int) -> SendReport:
    sent = retrying = failed = 0
    with session_factory.begin() as session:
        for email in claimed:
            row = update(OutboxEmail).where(OutboxEmail.id == email.id)
            if email.id not in outcomes:  # never tried: free it for the next run at once
                session.execute(row.values(next_attempt_at=now))
                continue
            error = outcomes[email.id]
            attempts = email.attempts + 1
            if error is None:
                session.execute(row.values(status=EmailStatus.SENT.value, sent_at=now,
                                           attempts=attempts, last_error=None))
                sent += 1
                continue
            gave_up = attempts >= max_attempts
            session.execute(row.values(
                attempts=attempts, last_error=error,
                status=(EmailStatus.FAILED if gave_up else EmailStatus.PENDING).value,
                next_attempt_at=now + backoff(attempts)))
            failed += gave_up
            retrying += not gave_up
    return SendReport(sent, retrying, failed)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes after the first, second, third ... failure, at most 6 hours."""
    delay: timedelta = FIRST_RETRY * 2 ** min(attempts - 1, 20)
    return min(delay, LONGEST_RETRY)


@dataclass(frozen=True)
class _Claimed:
    id: int
    to_address: str
    subject: str
    body: str
    attempts: int


def _claim(session_factory: sessionmaker[Session], now: datetime, batch: int) -> list[_Claimed]:
    """Take due emails for this run by moving their next attempt past the lease."""
    with session_factory.begin() as session:
        due = list(session.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.status == EmailStatus.PENDING.value,
                   OutboxEmail.next_attempt_at <= now)
            .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id).limit(batch)
            .with_for_update(skip_locked=True)
        ))
        claimed = []
        for email in due:
            # Only one claimer can move a row still due; on SQLite this is the whole guard.
            won = cast(CursorResult[Any], session.execute(
                update(OutboxEmail)
                .where(OutboxEmail.id == email.id,
                       OutboxEmail.status == EmailStatus.PENDING.value,
                       OutboxEmail.next_attempt_at <= now)
                .values(next_attempt_at=now + LEASE)
                .execution_options(synchronize_session=False)
            )).rowcount
            if won == 1:
                claimed.append(_Claimed(email.id, email.to_address, email.subject, email.body,
                                        email.attempts))
    return claimed
