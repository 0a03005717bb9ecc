"""A real SMTP server for tests (aiosmtpd) on a port of its own, that can go down and up,
and speak STARTTLS with a certificate the test chose."""

from __future__ import annotations

import asyncio
import email
import socket
import ssl
import threading
from collections.abc import Awaitable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from access.notifications.sender import SmtpMailer, SmtpSettings
from tests.ports import HOST, listening_socket, port_of, refusing_socket


@dataclass
class Received:
    recipients: list[str]
    message: Message
    over_tls: bool = False

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
                                          email.message_from_bytes(content),
                                          over_tls=session.ssl is not None))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.recipients]


class _OnSocket(Controller):
    """aiosmtpd's controller, serving on a socket we bound (it binds host:port itself)."""

    def __init__(self, handler: Inbox, sock: socket.socket, **options: Any) -> None:
        super().__init__(handler, hostname=HOST, port=port_of(sock), **options)
        self._socket = sock

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self.loop.create_server(self._factory_invoker, sock=self._socket,
                                       ssl=self.ssl_context)


class SmtpServer:
    def __init__(self, tls_context: ssl.SSLContext | None = None) -> None:
        self.inbox = Inbox()
        # (user, password) the server accepts; None: no login needed.
        self.credentials: tuple[str, str] | None = None
        self.logins_tried = 0
        self.tls_context = tls_context  # offered with STARTTLS; None: plain text only
        self._controller: Controller | None = None
        # While down, the port stays ours (bound, not listening): connections are refused.
        self._down = refusing_socket()
        self.port = port_of(self._down)

    def start(self) -> None:
        options: dict[str, Any] = {}
        if self.credentials is not None:
            # Without TLS, plain-text AUTH is only acceptable on this loopback test server.
            options = {"authenticator": self._authenticate,
                       "auth_require_tls": self.tls_context is not None}
        if self.tls_context is not None:
            options["tls_context"] = self.tls_context
        # Listen beside the placeholder before letting it go: the port is never free.
        self._controller = _OnSocket(self.inbox, listening_socket(self.port),
                                     **options)
        self._controller.start()
        self._down.close()

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope,
                      mechanism: str, auth_data: Any) -> AuthResult:
        self.logins_tried += 1
        given = (auth_data.login.decode(), auth_data.password.decode()) \
            if isinstance(auth_data, LoginPassword) else None
        return AuthResult(success=given == self.credentials, handled=False)

    def stop(self) -> None:
        if self._controller is not None:
            self._down = refusing_socket(self.port)
            self._controller.stop()
            self._controller = None

    def close(self) -> None:
        self.stop()
        self._down.close()

    def mailer(self, **changes: Any) -> SmtpMailer:
        settings = {"host": HOST, "port": self.port, "sender": "custodian@test.example",
                    "username": None, "password": None, "starttls": False, **changes}
        return SmtpMailer(SmtpSettings(**settings))
