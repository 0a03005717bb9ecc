"""Sending over SMTP: one connection per batch, STARTTLS with the certificate and host name
verified (against the system's CAs, or those of ``ca_file``), an optional login only after
it; errors described without credentials."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

SMTP_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    username: str | None
    password: str | None
    starttls: bool
    ca_file: Path | None = None


class SmtpMailer:
    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings

    @contextmanager
    def connection(self) -> Iterator[_SmtpSender]:
        """One SMTP session for a batch; raises smtplib/OS errors on any failure."""
        settings = self._settings
        with smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if settings.starttls:
                # A failed handshake raises here, before any credential is sent; a server
                # that offers no STARTTLS is refused too (SMTPNotSupportedError), never
                # spoken to in clear text.
                smtp.starttls(context=ssl.create_default_context(cafile=settings.ca_file))
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            yield _SmtpSender(smtp, settings.sender)


@dataclass
class _SmtpSender:
    smtp: smtplib.SMTP
    sender: str

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        self.smtp.send_message(message)


def describe_error(exc: BaseException) -> str:
    """The type and the server's reply code and text: enough to diagnose, never a credential.

    smtplib's messages carry only what the server said; the password is never echoed.
    """
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(
            exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{type(exc).__name__}: {exc.smtp_code} {reply}"[:500]
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"{type(exc).__name__}: recipient refused"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"[:500]
    return type(exc).__name__
