"""A real GA4GH Passport broker for the tests: its keys, its JWKS over HTTP, its visas.

The JWKS is served by a small HTTP server on a port of its own, which records every path it is
asked for, so a test can prove that a key URL was (or was never) fetched.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from tests.ports import HeldPort

JWKS_PATH = "/jwks.json"


class Broker:
    def __init__(self, algorithm: str = "RS256") -> None:
        self.algorithm = algorithm
        self.key: RSAKey | ECKey = (RSAKey.generate_key(2048) if algorithm == "RS256"
                                    else ECKey.generate_key("P-256"))
        self.key.ensure_kid()
        self._port = HeldPort()
        self.port = self._port.number
        self.requests: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}/broker"

    @property
    def jku(self) -> str:
        return f"http://127.0.0.1:{self.port}{JWKS_PATH}"

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def start(self) -> Broker:
        broker = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                broker.requests.append(self.path)
                body = json.dumps(broker.jwks()).encode() if self.path == JWKS_PATH else b"{}"
                self.send_response(200 if self.path == JWKS_PATH else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        # Serves on the socket held since the broker was made (tests/ports.py).
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler,
                                           bind_and_activate=False)
        self._server.socket.close()
        self._server.socket = self._port.listen()
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
            self._port.close()

    def visa(
        self,
        value: str,
        *,
        now: datetime,
        lifetime: timedelta = timedelta(hours=1),
        asserted: datetime | None = None,
        by: str = "dac",
        visa_type: str = "ControlledAccessGrants",
        extra: dict[str, Any] | None = None,
        header: dict[str, Any] | None = None,
        key: RSAKey | ECKey | None = None,
        issuer: str | None = None,
    ) -> str:
        """A ControlledAccessGrants Visa Document Token, signed by this broker unless told."""
        visa: dict[str, Any] = {
            "type": visa_type, "value": value, "source": "https://dac.example.org/dac/1",
            "by": by, "asserted": int((asserted or now - timedelta(days=1)).timestamp()),
            **(extra or {}),
        }
        claims = {"iss": issuer or self.issuer, "sub": "broker-user-7",
                  "iat": int(now.timestamp()), "exp": int((now + lifetime).timestamp()),
                  "jti": secrets.token_hex(8), "ga4gh_visa_v1": visa}
        return self.sign(claims, header=header, key=key)

    def passport(self, visas: list[str], *, now: datetime) -> str:
        claims = {"iss": self.issuer, "sub": "broker-user-7", "iat": int(now.timestamp()),
                  "exp": int((now + timedelta(hours=1)).timestamp()),
                  "jti": secrets.token_hex(8), "ga4gh_passport_v1": visas}
        return self.sign(claims, header={"typ": "vnd.ga4gh.passport+jwt"})

    def sign(self, claims: dict[str, Any], *, header: dict[str, Any] | None = None,
             key: RSAKey | ECKey | None = None) -> str:
        protected = {"typ": "JWT", "alg": self.algorithm, "kid": str(self.key.kid),
                     "jku": self.jku, **(header or {})}
        return jwt.encode(protected, claims, key or self.key, [protected["alg"]])


def unsigned(claims: dict[str, Any], header: dict[str, Any]) -> str:
    """A token with alg "none", built by hand: no library will sign one."""
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    padded = payload + "=" * (-len(payload) % 4)
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(padded))
    return decoded
