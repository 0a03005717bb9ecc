"""A real SMTP server for tests (aiosmtpd) on a free local port, that can go down and up."""

from __future__ import annotations

import email
import threading
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from access.notifications.sender import SmtpMailer, SmtpSettings


@dataclass
class Received:
    recipients: list[str]
    message: Message

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        payload = self.message.get_payload(decode=True)
        assert isinstance(payload, bytes)
        return payload.decode().replace("\r\n", "\n")  # SMTP sends CRLF line ends


@dataclass
class Inbox:
    """Collects what the server accepted; `refuse_with` makes it answer DATA with an error."""

    received: list[Received] = field(default_factory=list)
    refuse_with: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse_with is not None:
            return self.refuse_with
        content = envelope.original_content or b""
        with self.lock:
            self.received.append(Received(list(envelope.rcpt_tos),
                                          email.message_from_bytes(content)))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.recipients]


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        # (user, password) the server accepts; None: no login needed.
        self.credentials: tuple[str, str] | None = None
        self._controller: Controller | None = None

    def start(self) -> None:
        options: dict[str, Any] = {}
        if self.credentials is not None:
            # Plain-text AUTH without TLS: only acceptable on this loopback test server.
            options = {"authenticator": self._authenticate, "auth_require_tls": False}
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port,
                                      **options)
        self._controller.start()

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope,
                      mechanism: str, auth_data: Any) -> AuthResult:
        given = (auth_data.login.decode(), auth_data.password.decode()) \
            if isinstance(auth_data, LoginPassword) else None
        return AuthResult(success=given == self.credentials, handled=False)

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def mailer(self, **changes: Any) -> SmtpMailer:
        settings = {"host": "127.0.0.1", "port": self.port, "sender": "custodian@test.example",
                    "username": None, "password": None, "starttls": False, **changes}
        return SmtpMailer(SmtpSettings(**settings))

