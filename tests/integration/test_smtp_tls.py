"""STARTTLS to the mail relay, against a real server whose certificate comes from a throwaway CA.

The right CA and host name send; a certificate from another CA, one for another host name,
the system's roots (which do not know the throwaway CA) and a server that offers no
STARTTLS are all refused before any credential is sent, and the refusal is recorded on
the email, which waits for its retry.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trustme
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from access.notifications.models import EmailStatus, OutboxEmail
from access.notifications.outbox import SendReport, enqueue_email, send_due_emails
from core.db import make_engine, make_session_factory
from core.migrations import upgrade
from tests.data_keys import keyed
from tests.smtp_server import SmtpServer

CREDENTIALS = ("custodian", "correct-horse-battery")
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def outbox(fresh_database_url: str) -> Iterator[sessionmaker[Session]]:
    """A migrated database holding one queued email."""
    engine = keyed(make_engine(fresh_database_url))
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        enqueue_email(session, to="someone@test.example", subject="Hello", body="Body", now=NOW)
    yield factory
    engine.dispose()


@pytest.fixture(scope="module")
def ours() -> trustme.CA:
    return trustme.CA(organization_name="Throwaway test CA")


def relay(ca: trustme.CA, *names: str) -> Iterator[SmtpServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    server = SmtpServer(tls_context=context)
    server.credentials = CREDENTIALS
    server.start()
    yield server
    server.close()


@pytest.fixture
def good_relay(ours: trustme.CA) -> Iterator[SmtpServer]:
    """Its certificate names 127.0.0.1, the address the mailer connects to."""
    yield from relay(ours, "127.0.0.1", "localhost")


@pytest.fixture
def ca_file(ours: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "relay-ca.pem"
    ours.cert_pem.write_to_path(str(path))
    return path


def send(
    factory: sessionmaker[Session], server: SmtpServer, ca: Path | None, host: str = "127.0.0.1"
) -> SendReport:
    mailer = server.mailer(
        starttls=True, ca_file=ca, username=CREDENTIALS[0], password=CREDENTIALS[1], host=host
    )
    return send_due_emails(factory, mailer, now=NOW)


def the_email(factory: sessionmaker[Session]) -> OutboxEmail:
    with factory() as session:
        [email] = session.scalars(select(OutboxEmail)).all()
        return email


def test_the_right_ca_and_host_name_send_over_tls_and_log_in(
    outbox: sessionmaker[Session], good_relay: SmtpServer, ca_file: Path
) -> None:
    assert send(outbox, good_relay, ca_file) == SendReport(1, 0, 0)
    [mail] = good_relay.inbox.received
    assert mail.subject == "Hello" and mail.over_tls
    assert good_relay.logins_tried == 1
    assert the_email(outbox).status == EmailStatus.SENT


def assert_refused(
    factory: sessionmaker[Session],
    server: SmtpServer,
    ca: Path | None,
    reason: str,
    host: str = "127.0.0.1",
) -> None:
    assert send(factory, server, ca, host) == SendReport(0, 1, 0)
    assert server.inbox.received == []
    assert server.logins_tried == 0  # the password never left over an unverified channel
    email = the_email(factory)
    assert (email.status, email.attempts) == (EmailStatus.PENDING, 1)
    assert email.last_error is not None and reason in email.last_error, email.last_error
    assert CREDENTIALS[1] not in email.last_error


def test_a_certificate_from_another_ca_is_refused_and_recorded(
    outbox: sessionmaker[Session], tmp_path: Path
) -> None:
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    for server in relay(trustme.CA(), "127.0.0.1"):
        assert_refused(outbox, server, other, "SSLCertVerificationError")
        assert "unable to get local issuer certificate" in str(the_email(outbox).last_error)


@pytest.mark.parametrize(
    "host, mismatch", [("localhost", "Hostname mismatch"), ("127.0.0.1", "IP address mismatch")]
)
def test_a_certificate_for_another_host_name_is_refused_and_recorded(
    outbox: sessionmaker[Session], ours: trustme.CA, ca_file: Path, host: str, mismatch: str
) -> None:
    for server in relay(ours, "mail.example.org"):
        assert_refused(outbox, server, ca_file, "SSLCertVerificationError", host)
        assert mismatch in str(the_email(outbox).last_error)


def test_the_system_roots_do_not_trust_a_private_ca(
    outbox: sessionmaker[Session], good_relay: SmtpServer
) -> None:
    assert_refused(outbox, good_relay, None, "SSLCertVerificationError")


def test_a_relay_that_offers_no_starttls_is_never_spoken_to_in_clear(
    outbox: sessionmaker[Session], ca_file: Path
) -> None:
    plain = SmtpServer()
    plain.credentials = CREDENTIALS
    plain.start()
    try:
        assert_refused(outbox, plain, ca_file, "SMTPNotSupportedError")
    finally:
        plain.close()
