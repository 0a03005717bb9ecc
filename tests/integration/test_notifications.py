"""Email notifications end to end: queued with the action, sent through a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from access.identity.actor import Actor
from access.identity.models import User
from access.notifications import composers as notify
from access.notifications.models import EmailStatus, OutboxEmail
from access.notifications.outbox import SendReport, enqueue_email, send_due_emails
from access.requests.applicant import submit_request
from access.requests.filing import create_request
from access.requests.models import AccessRequest
from access.requests.notices import Notices
from app import create_app
from datasets.catalogue.queries import CatalogueDirectory
from tests.conftest import DemoInstance, issue_token
from tests.data_keys import keyed
from tests.integration.audit_support import STATEMENT, controlled_files, grant_access
from tests.smtp_server import SmtpServer

TITLE = "Ageing eQTLs"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.close()


@pytest.fixture
def factory(demo: DemoInstance) -> sessionmaker[Session]:
    found: sessionmaker[Session] = demo.app.extensions["custodian.session_factory"]
    return found


def user(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.subject == username)).one()


def submitted_request(demo: DemoInstance, session: Session) -> AccessRequest:
    dataset_id, _ = controlled_files(demo)
    applicant = Actor(user=user(session, "researcher"))
    filed = create_request(
        session,
        applicant,
        title=TITLE,
        research_use_statement=STATEMENT,
        dataset_ids=[dataset_id],
        directory=CatalogueDirectory(),
        now=demo.clock.now(),
    )
    return submit_request(
        session, applicant, filed.id, demo.clock.now(), notices=Notices(demo.base_url)
    )


def filed_and_submitted(demo: DemoInstance) -> int:
    """File and submit a request over the API, as the researcher would; returns its id."""
    dataset_id, _ = controlled_files(demo)
    client, researcher = demo.app.test_client(), issue_token(demo, "researcher")
    filed = client.post(
        "/api/v1/requests",
        headers=researcher,
        json={"title": TITLE, "research_use_statement": STATEMENT, "dataset_ids": [dataset_id]},
    )
    assert filed.status_code == 201, filed.get_json()
    request_id: int = filed.get_json()["id"]
    act(demo, "researcher", request_id, "submit")
    return request_id


def act(
    demo: DemoInstance,
    username: str,
    request_id: int,
    action: str,
    body: dict[str, Any] | None = None,
) -> None:
    answer = demo.app.test_client().post(
        f"/api/v1/requests/{request_id}/{action}",
        headers=issue_token(demo, username),
        json=body or {},
    )
    assert answer.status_code == 200, answer.get_json()


def drop_queued(factory: sessionmaker[Session]) -> None:
    """Forget the emails set-up actions queued, to watch only what the test does next."""
    with factory.begin() as session:
        session.execute(delete(OutboxEmail))


def send(
    demo: DemoInstance, factory: sessionmaker[Session], server: SmtpServer, **options: Any
) -> SendReport:
    return send_due_emails(factory, server.mailer(), now=demo.clock.now(), **options)


def outbox(factory: sessionmaker[Session]) -> list[OutboxEmail]:
    with factory() as session:
        return list(session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def test_submitting_emails_the_applicants_signing_official(
    demo: DemoInstance, factory: sessionmaker[Session], smtp_server: SmtpServer
) -> None:
    request_id = filed_and_submitted(demo)
    assert send(demo, factory, smtp_server) == SendReport(1, 0, 0)
    [mail] = smtp_server.inbox.received
    assert mail.recipients == ["so@demo.example"]
    assert mail.subject == f"Request #{request_id} needs your endorsement"
    assert "please read it and endorse or decline it" in mail.body
    assert f"{demo.base_url}/requests/{request_id}" in mail.body
    assert send(demo, factory, smtp_server) == SendReport(0, 0, 0)  # sent once


def test_email_exists_only_if_the_action_committed(
    demo: DemoInstance, factory: sessionmaker[Session]
) -> None:
    with demo.app.app_context(), pytest.raises(RuntimeError), factory.begin() as session:
        submitted_request(demo, session)  # queues the signing official's email
        raise RuntimeError("the action failed after queueing")
    assert outbox(factory) == []


def test_endorsing_emails_every_member_and_the_chair(
    demo: DemoInstance, factory: sessionmaker[Session], smtp_server: SmtpServer
) -> None:
    request_id = filed_and_submitted(demo)
    drop_queued(factory)
    act(demo, "signing-official", request_id, "endorse")
    assert send(demo, factory, smtp_server).sent == 2
    for address in ("dac-chair@demo.example", "dac-member@demo.example"):
        [mail] = smtp_server.inbox.to(address)
        assert mail.subject == f"Request #{request_id} awaits your committee's review"
        assert "was endorsed by their signing official" in mail.body
        assert f"{demo.base_url}/requests/{request_id}" in mail.body
    assert smtp_server.inbox.to("researcher@demo.example") == []


@pytest.mark.parametrize("who", ["chair", "signing official"])
def test_returning_tells_the_applicant_what_to_answer(
    demo: DemoInstance, factory: sessionmaker[Session], smtp_server: SmtpServer, who: str
) -> None:
    request_id = filed_and_submitted(demo)
    if who == "chair":
        act(demo, "signing-official", request_id, "endorse")
        drop_queued(factory)
        act(
            demo,
            "dac-chair",
            request_id,
            "return",
            {"questions": ["Say which tissues you need.", "Name your IT director."]},
        )
        said = "- Say which tissues you need.\n- Name your IT director."
    else:
        drop_queued(factory)
        act(
            demo,
            "signing-official",
            request_id,
            "decline",
            {"reason": "Our IRB approval is missing."},
        )
        said = "- Our IRB approval is missing."
    send(demo, factory, smtp_server)
    [mail] = smtp_server.inbox.received
    assert mail.recipients == ["researcher@demo.example"]
    assert mail.subject == f"Request #{request_id} was returned for revision"
    assert f"The reviewers wrote:\n{said}" in mail.body
    assert (
        f"revise the request and submit it again: {demo.base_url}/requests/{request_id}"
        in mail.body
    )


@pytest.mark.parametrize("decision", ["approved", "rejected"])
def test_decision_tells_the_applicant_what_to_do_next(
    demo: DemoInstance, factory: sessionmaker[Session], smtp_server: SmtpServer, decision: str
) -> None:
    request_id = filed_and_submitted(demo)
    act(demo, "signing-official", request_id, "endorse")
    drop_queued(factory)
    act(demo, "dac-member", request_id, "vote", {"vote": "approve", "rationale": "Fine."})
    assert outbox(factory) == []  # a vote needs nobody's action
    if decision == "approved":
        act(demo, "dac-chair", request_id, "approve", {"reason": "Fits GRU.", "days": 30})
    else:
        act(demo, "dac-chair", request_id, "reject", {"reason": "Out of scope."})
    send(demo, factory, smtp_server)
    [mail] = smtp_server.inbox.received
    assert mail.recipients == ["researcher@demo.example"]
    link = f"{demo.base_url}/requests/{request_id}"
    if decision == "approved":
        until = (demo.clock.now() + timedelta(days=30)).strftime("%Y-%m-%d")
        assert mail.subject == f"Request #{request_id} was approved"
        assert "The committee's reason: Fits GRU." in mail.body
        assert f"Your access lasts 30 days, until {until}." in mail.body
        assert "accept the data-use agreement of each dataset" in mail.body and link in mail.body
    else:
        assert mail.subject == f"Request #{request_id} was not approved"
        assert "The committee's reason: Out of scope." in mail.body
        assert "you may file a new request" in mail.body and link in mail.body


def test_revocation_tells_everyone_whose_access_ended_why_and_what_to_do(
    demo: DemoInstance, factory: sessionmaker[Session], smtp_server: SmtpServer
) -> None:
    dataset_id, _ = controlled_files(demo)
    filed = demo.app.test_client().post(
        "/api/v1/requests",
        headers=issue_token(demo, "researcher"),
        json={
            "title": TITLE,
            "research_use_statement": STATEMENT,
            "dataset_ids": [dataset_id],
            "collaborator_emails": ["researcher2@demo.example"],
        },
    )
    assert filed.status_code == 201, filed.get_json()
    request_id = filed.get_json()["id"]
    act(demo, "researcher", request_id, "submit")
    act(demo, "researcher2", request_id, "accept")
    act(demo, "signing-official", request_id, "endorse")
    act(demo, "dac-chair", request_id, "approve", {"reason": "Fits GRU.", "days": 30})
    drop_queued(factory)
    act(demo, "dac-chair", request_id, "revoke", {"reason": "Data shared outside the project."})
    send(demo, factory, smtp_server)
    mails = sorted(smtp_server.inbox.received, key=lambda mail: mail.recipients)
    assert [mail.recipients for mail in mails] == [
        ["researcher2@demo.example"],
        ["researcher@demo.example"],
    ]
    for mail in mails:
        assert mail.subject == f"Access under request #{request_id} was revoked"
        assert "The committee's reason: Data shared outside the project." in mail.body
        assert "delete every copy you hold" in mail.body
        assert f"{demo.base_url}/requests/{request_id}" in mail.body


def queue_one(demo: DemoInstance, factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        enqueue_email(
            session, to="someone@test.example", subject="Hello", body="Body", now=demo.clock.now()
        )


def test_retry_after_the_server_was_down_then_up(
    demo: DemoInstance, factory: sessionmaker[Session], smtp_server: SmtpServer
) -> None:
    queue_one(demo, factory)
    smtp_server.stop()
    assert send(demo, factory, smtp_server) == SendReport(0, 1, 0)
    [email] = outbox(factory)
    assert (email.status, email.attempts) == (EmailStatus.PENDING, 1)
    assert email.last_error is not None and "ConnectionRefusedError" in email.last_error
    assert email.next_attempt_at == demo.clock.now() + timedelta(minutes=1)

    smtp_server.start()
    # Not due yet: the backoff holds it back even though the server is up.
    assert send(demo, factory, smtp_server) == SendReport(0, 0, 0)
    demo.clock.advance(timedelta(minutes=1))
    assert send(demo, factory, smtp_server) == SendReport(1, 0, 0)
    [email] = outbox(factory)
    assert (email.status, email.attempts, email.last_error) == (EmailStatus.SENT, 2, None)
    assert [m.subject for m in smtp_server.inbox.received] == ["Hello"]


def test_marked_failed_after_the_maximum_attempts_with_the_servers_reply(
    demo: DemoInstance, factory: sessionmaker[Session], smtp_server: SmtpServer
) -> None:
    queue_one(demo, factory)
    smtp_server.inbox.refuse_with = "451 Requested action aborted: local error"
    delays = []
    for attempt in range(1, 4):
        before = demo.clock.now()
        report = send(demo, factory, smtp_server, max_attempts=3)
        [email] = outbox(factory)
        assert email.attempts == attempt
        delays.append(email.next_attempt_at - before)
        demo.clock.advance(email.next_attempt_at - before)
    assert report == SendReport(0, 0, 1)
    assert email.status == EmailStatus.FAILED
    assert email.last_error == "SMTPDataError: 451 Requested action aborted: local error"
    assert delays[:2] == [timedelta(minutes=1), timedelta(minutes=2)]  # exponential backoff
    # A failed email is left for an operator: later runs do not touch it.
    smtp_server.inbox.refuse_with = None
    demo.clock.advance(timedelta(days=1))
    assert send(demo, factory, smtp_server) == SendReport(0, 0, 0)
    assert smtp_server.inbox.received == []


def test_login_uses_the_credentials_and_a_refusal_stores_no_password(
    demo: DemoInstance, factory: sessionmaker[Session], smtp_server: SmtpServer
) -> None:
    smtp_server.stop()
    smtp_server.credentials = ("custodian", "correct-horse-battery")
    smtp_server.start()
    queue_one(demo, factory)
    wrong = smtp_server.mailer(username="custodian", password="wrong-secret-pw")
    assert send_due_emails(factory, wrong, now=demo.clock.now()) == SendReport(0, 1, 0)
    [email] = outbox(factory)
    assert email.last_error is not None
    assert email.last_error.startswith("SMTPAuthenticationError: 535")
    assert "wrong-secret-pw" not in email.last_error
    demo.clock.advance(timedelta(minutes=1))
    right = smtp_server.mailer(username="custodian", password="correct-horse-battery")
    assert send_due_emails(factory, right, now=demo.clock.now()) == SendReport(1, 0, 0)
    assert [m.subject for m in smtp_server.inbox.received] == ["Hello"]


def test_a_malformed_address_fails_alone_and_injects_no_header(
    demo: DemoInstance, factory: sessionmaker[Session], smtp_server: SmtpServer
) -> None:
    with factory.begin() as session:
        enqueue_email(
            session,
            to="victim@test.example\nBcc: all@test.example",
            subject="Bad",
            body="b",
            now=demo.clock.now(),
        )
        enqueue_email(
            session,
            to="fine@test.example",
            subject="Line\r\nBcc: x@test.example",
            body="b",
            now=demo.clock.now(),
        )
    assert send(demo, factory, smtp_server) == SendReport(1, 1, 0)
    bad, good = outbox(factory)
    assert good.status == EmailStatus.SENT
    assert bad.status == EmailStatus.PENDING and bad.last_error is not None
    assert bad.last_error.startswith("ValueError")
    [mail] = smtp_server.inbox.received
    assert mail.recipients == ["fine@test.example"]
    assert mail.subject == "Line Bcc: x@test.example" and mail.message["Bcc"] is None


def test_expiry_reminders_go_once_per_grant_per_window(
    demo: DemoInstance, factory: sessionmaker[Session], smtp_server: SmtpServer
) -> None:
    ends = (demo.clock.now() + timedelta(days=40)).strftime("%Y-%m-%d")
    grant_access(demo, days=40)
    drop_queued(factory)

    def remind() -> int:
        with demo.app.app_context(), factory.begin() as session:
            return len(
                notify.queue_expiry_reminders(
                    session,
                    demo.clock.now(),
                    public_url=demo.base_url,
                    directory=CatalogueDirectory(),
                )
            )

    assert remind() == 0  # 40 days left: outside both windows
    demo.clock.advance(timedelta(days=11))  # 29 days left
    assert remind() == 1
    assert remind() == 0
    demo.clock.advance(timedelta(days=10))  # 19 days left: still the 30-day window
    assert remind() == 0
    demo.clock.advance(timedelta(days=13))  # 6 days left
    assert remind() == 1
    demo.clock.advance(timedelta(days=5))
    assert remind() == 0
    demo.clock.advance(timedelta(days=2))  # expired: nothing to remind
    assert remind() == 0
    send(demo, factory, smtp_server)
    mails = smtp_server.inbox.to("researcher@demo.example")
    assert [m.subject for m in mails] == [f"Your access ends on {ends}"] * 2
    assert "within 30 days" in mails[0].body and "within 7 days" in mails[1].body
    assert "General Research Use (GRU) consent group" in mails[0].body
    assert "/requests/" in mails[0].body and "renew the request" in mails[0].body


def test_cli_sends_the_outbox_and_queues_reminders(
    demo: DemoInstance, factory: sessionmaker[Session], smtp_server: SmtpServer
) -> None:
    grant_access(demo, days=5)
    drop_queued(factory)
    settings = replace(
        demo.settings,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_starttls=False,
        smtp_from="dac@test.example",
    )
    app = create_app(settings, clock=demo.clock)
    runner = app.test_cli_runner()
    reminded = runner.invoke(args=["notify", "remind"])
    assert reminded.exit_code == 0 and "Queued 1 reminder(s)." in reminded.output
    sent = runner.invoke(args=["notify", "send"])
    assert sent.exit_code == 0, sent.output
    assert "Sent 1; 0 to retry; 0 failed for good." in sent.output
    [mail] = smtp_server.inbox.received
    assert mail.message["From"] == "dac@test.example"
    assert "within 7 days" in mail.body
    app.extensions["custodian.engine"].dispose()


def test_cli_without_an_smtp_host_says_what_to_set(demo: DemoInstance) -> None:
    result = demo.app.test_cli_runner().invoke(args=["notify", "send"])
    assert result.exit_code != 0
    assert "Set CUSTODIAN_SMTP_HOST" in result.output


def test_users_without_an_address_are_skipped_and_duplicates_are_dropped(
    demo: DemoInstance, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as session:
        user(session, "dac-member").email = None
        assert (
            enqueue_email(
                session,
                to="a@test.example",
                subject="s",
                body="b",
                now=demo.clock.now(),
                dedupe_key="k",
            )
            is not None
        )
        assert (
            enqueue_email(
                session,
                to="a@test.example",
                subject="s",
                body="b",
                now=demo.clock.now(),
                dedupe_key="k",
            )
            is None
        )
    request_id = filed_and_submitted(demo)
    act(demo, "signing-official", request_id, "endorse")
    assert [e.to_address for e in outbox(factory)] == [
        "a@test.example",
        "so@demo.example",
        "dac-chair@demo.example",
    ]


# --- several senders at once, on PostgreSQL -------------------------------------------------


@pytest.fixture
def postgres_factory(postgres_server: str) -> Iterator[sessionmaker[Session]]:
    import uuid

    from core.db import make_engine, make_session_factory
    from core.migrations import upgrade
    from tests.postgres import create_database, drop_database

    name = f"outbox_{uuid.uuid4().hex[:8]}"
    engine = keyed(make_engine(create_database(postgres_server, name)))
    upgrade(engine)
    yield make_session_factory(engine)
    engine.dispose()
    drop_database(postgres_server, name)


def test_concurrent_senders_on_postgresql_send_each_email_once(
    postgres_factory: sessionmaker[Session], smtp_server: SmtpServer
) -> None:
    import threading

    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    with postgres_factory.begin() as session:
        for number in range(60):
            enqueue_email(
                session,
                to=f"user{number}@test.example",
                subject=f"mail {number}",
                body="b",
                now=now,
            )
    start = threading.Barrier(3)
    reports: list[SendReport] = []

    def sender() -> None:
        start.wait()
        while (
            report := send_due_emails(postgres_factory, smtp_server.mailer(), now=now, batch=4)
        ).sent:
            reports.append(report)

    workers = [threading.Thread(target=sender) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    subjects = sorted(m.subject for m in smtp_server.inbox.received)
    assert subjects == sorted(f"mail {number}" for number in range(60))  # each exactly once
    assert sum(r.sent for r in reports) == 60
    # Who sent which batch is the scheduler's choice; that no run took more than its batch
    # is the code's (a sender ignoring the limit would hold every email in one claim).
    assert all(1 <= r.sent <= 4 for r in reports), reports
    with postgres_factory() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(OutboxEmail)
                .where(OutboxEmail.status == EmailStatus.SENT.value)
            )
            == 60
        )


def test_a_sender_skips_emails_another_has_locked_instead_of_waiting(
    postgres_factory: sessionmaker[Session], smtp_server: SmtpServer
) -> None:
    """SKIP LOCKED, shown without relying on timing: one transaction holds the first emails'
    rows while a sender runs; waiting for them would hit the lock timeout and fail."""
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    with postgres_factory.begin() as session:
        for number in range(8):
            enqueue_email(
                session,
                to=f"user{number}@test.example",
                subject=f"mail {number}",
                body="b",
                now=now + timedelta(seconds=number),
            )
    # A sender whose every wait for a lock fails after 2 s, so that waiting is an error.
    url = postgres_factory.kw["bind"].url.render_as_string(hide_password=False)
    impatient = keyed(create_engine(url, connect_args={"options": "-c lock_timeout=2s"}))
    with postgres_factory() as holder:
        holder.execute(
            select(OutboxEmail.id).order_by(OutboxEmail.next_attempt_at).limit(4).with_for_update()
        )
        report = send_due_emails(
            sessionmaker(bind=impatient),
            smtp_server.mailer(),
            now=now + timedelta(minutes=1),
            batch=4,
        )
        assert report == SendReport(4, 0, 0)
        assert sorted(m.subject for m in smtp_server.inbox.received) == [
            f"mail {number}" for number in range(4, 8)
        ]
        holder.rollback()
    report = send_due_emails(
        postgres_factory, smtp_server.mailer(), now=now + timedelta(minutes=1), batch=4
    )
    assert report == SendReport(4, 0, 0)
    assert sorted(m.subject for m in smtp_server.inbox.received) == [
        f"mail {number}" for number in range(8)
    ]
    impatient.dispose()
