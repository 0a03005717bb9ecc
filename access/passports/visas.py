"""Our grants as GA4GH ControlledAccessGrants visas, for other services that trust us.

Each visa is a Visa Document Token: signed with our dedicated key (RS256 or ES256), its
``jku`` header pointing at ``/.well-known/jwks.json`` where that key (and any being rotated
out) is published. A visa lives at most an hour and never past its grant's end, so a
revocation here reaches other services within the hour.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from joserfc import jwt
from joserfc.jwk import ECKey, KeyParameters, RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from access.errors import VisasNotIssued
from access.identity.actor import Actor
from access.models import Grant
from access.passports.verify import GRANT_TYPE, VISA_CLAIM
from access.ports import DatasetDirectory
from audit.log.actions import AuditAction
from audit.log.append import record_event
from config import Settings

VISA_MAX_LIFETIME = timedelta(hours=1)
JWKS_PATH = "/.well-known/jwks.json"
SigningKey = RSAKey | ECKey


@dataclass(frozen=True)
class VisaSigner:
    """Parsed once at start-up; the kid is the key's RFC 7638 thumbprint."""

    issuer: str
    key: SigningKey
    algorithm: str
    previous: tuple[SigningKey, ...]

    @property
    def jku(self) -> str:
        return self.issuer + JWKS_PATH

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"typ": "JWT", "alg": self.algorithm, "kid": str(self.key.kid), "jku": self.jku}
        return jwt.encode(header, claims, self.key, [self.algorithm])


def signer_from(settings: Settings) -> VisaSigner | None:
    """None when no visa key is configured: then we publish no keys and issue no visas."""
    if not settings.visa_signing_key_pem:
        return None
    key, algorithm = _import(settings.visa_signing_key_pem)
    previous = tuple(_import(pem)[0] for pem in settings.visa_signing_keys_previous)
    return VisaSigner(settings.public_url, key, algorithm, previous)


def public_jwks(signer: VisaSigner | None) -> dict[str, Any]:
    if signer is None:
        return {"keys": []}
    return {"keys": [key.as_dict(private=False) for key in (signer.key, *signer.previous)]}


def _import(pem: str) -> tuple[SigningKey, str]:
    is_rsa = isinstance(load_pem_private_key(pem.encode(), password=None), RSAPrivateKey)
    algorithm = "RS256" if is_rsa else "ES256"
    parameters: KeyParameters = {"use": "sig", "alg": algorithm}
    key: SigningKey = (RSAKey if is_rsa else ECKey).import_key(pem, parameters=parameters)
    key.ensure_kid()
    return key, algorithm


def issue_visas(
    session: Session,
    actor: Actor,
    *,
    now: datetime,
    signer: VisaSigner | None,
    directory: DatasetDirectory,
) -> list[str]:
    """One signed visa per live grant of the user; audited with the grants and visa ids."""
    user = actor.require_user()
    if signer is None:
        raise VisasNotIssued("This service issues no GA4GH visas (no visa signing key is set).")
    grants = list(session.scalars(
        select(Grant)
        .where(Grant.user_id == user.id, Grant.revoked_at.is_(None), Grant.starts_at <= now,
               Grant.ends_at > now)
        .order_by(Grant.id)
    ))
    datasets = directory.lookup(session, {grant.dataset_id for grant in grants})
    visas, issued = [], []
    for grant in grants:
        jti = secrets.token_urlsafe(16)
        expires_at = min(grant.ends_at, now + VISA_MAX_LIFETIME)
        visas.append(signer.sign({
            "iss": signer.issuer,
            "sub": str(user.id),
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
            "jti": jti,
            VISA_CLAIM: {
                "type": GRANT_TYPE,
                "asserted": int(grant.starts_at.timestamp()),
                "value": datasets[grant.dataset_id].accession,
                "source": signer.issuer,
                "by": "dac",
            },
        }))
        issued.append({"grant_id": grant.id, "jti": jti, "expires_at": expires_at.isoformat()})
    record_event(session, actor.audit(), AuditAction.VISA_ISSUE, now=now, target_type="user",
                 target_id=user.id, details={"visas": issued, "kid": str(signer.key.kid)})
    return visas
