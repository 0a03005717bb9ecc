"""The development IdP's signing key and the JWT access tokens it signs and checks.

Access tokens are self-contained RS256 JWTs, so the provider keeps no token table. They
carry ``token_use: "access"``: an ID token is signed by the same key and would otherwise
pass for an access token at the userinfo endpoint.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from joserfc.jwt import JWTClaimsRegistry

from access.identity.personas import Persona

ALGORITHM = "RS256"
TOKEN_LIFETIME_SECONDS = 3600
ACCESS_USE = "access"
BEARER_SCHEME = "Bearer"


class RedactedToken(dict[str, Any]):
    """A token response whose repr hides its values: authlib logs the token dict at debug."""

    def __repr__(self) -> str:
        return f"<token response: {', '.join(sorted(self))}>"


def load_signing_key(private_key_pem: str) -> RSAKey:
    """Parse the PEM once; the kid is the RFC 7638 thumbprint, so a new key gets a new kid."""
    if not private_key_pem.strip():
        raise RuntimeError("the development IdP needs a private key; it only runs in demo mode")
    key = RSAKey.import_key(private_key_pem, parameters={"use": "sig", "alg": ALGORITHM})
    if not key.is_private:
        raise RuntimeError("the development IdP key must be a private RSA key")
    key.ensure_kid()
    return key


def identity_claims(persona: Persona) -> dict[str, Any]:
    """The claims the ID token and userinfo share; the persona username is the subject."""
    return {
        "sub": persona.username,
        "name": persona.name,
        "email": persona.email,
        "email_verified": True,
    }


@dataclass(frozen=True)
class TokenSigner:
    """Signs and verifies tokens with the provider key.

    Timestamps use wall-clock time, not the app clock: relying parties check ``exp`` and
    ``iat`` against their own clocks.
    """

    issuer: str
    audience: str
    key: RSAKey

    @property
    def kid(self) -> str:
        return str(self.key.kid)

    def header(self) -> dict[str, str]:
        return {"alg": ALGORITHM, "kid": self.kid}

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(self.header(), claims, self.key, [ALGORITHM])

    def issue_access_token(
        self,
        grant_type: str,
        client: Any,
        user: Persona,
        scope: str,
        expires_in: int | None = None,
        include_refresh_token: bool = False,
    ) -> RedactedToken:
        """authlib's token-generator hook; no refresh tokens, a demo session is short."""
        now = int(time.time())
        lifetime = expires_in or TOKEN_LIFETIME_SECONDS
        claims = {
            "iss": self.issuer,
            "sub": user.username,
            "aud": client.get_client_id(),
            "iat": now,
            "exp": now + lifetime,
            "scope": scope,
            "token_use": ACCESS_USE,
            "jti": secrets.token_urlsafe(16),
        }
        return RedactedToken(
            access_token=self.sign(claims),
            token_type=BEARER_SCHEME,
            expires_in=lifetime,
            scope=scope,
        )

    def verify_access_token(self, token: str) -> dict[str, Any] | None:
        """The token's claims if it is an unexpired access token this provider signed."""
        if not token:
            return None
        registry = JWTClaimsRegistry(
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.audience},
            sub={"essential": True},
            exp={"essential": True},
            token_use={"essential": True, "value": ACCESS_USE},
        )
        try:
            decoded = jwt.decode(token, self.key, algorithms=[ALGORITHM])
            registry.validate(decoded.claims)
        except (JoseError, ValueError):
            return None
        return decoded.claims
