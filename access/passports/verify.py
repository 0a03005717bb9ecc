"""Checking GA4GH Passports and their ControlledAccessGrants visas (Passport v1.2, AAI).

A visa counts only when everything holds, in this order, so that nothing an outsider wrote
makes us fetch anything before their issuer and key URL are known to be ours to trust:
alg is RS256 or ES256; ``iss`` is a configured broker; the ``jku`` header is on that
broker's allow-list (only then is it fetched); the signature verifies with the key of the
header's ``kid``; ``exp`` is in the future; ``asserted`` is not; ``by`` is ``dac``; it has no
``conditions`` (we cannot evaluate any, so a conditional visa is refused, never half-read);
and ``value`` names one of our datasets, by accession or by its page URL here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from sqlalchemy.orm import Session

from access.passports.broker_keys import JwksFetcher, KeysUnavailable
from access.ports import DatasetDirectory
from config.identity import TrustedBroker

ALGORITHMS = ("RS256", "ES256")
GRANT_TYPE = "ControlledAccessGrants"
PASSPORT_CLAIM = "ga4gh_passport_v1"
VISA_CLAIM = "ga4gh_visa_v1"
# Brokers' clocks drift a little from ours; a visa asserted this far ahead still counts.
CLOCK_SKEW = timedelta(seconds=60)
MAX_TOKEN_CHARS = 16 * 1024
MAX_VISAS = 100

REASONS = {
    "malformed": "it is not a well-formed GA4GH visa or passport",
    "algorithm_not_allowed": "it is not signed with RS256 or ES256",
    "untrusted_issuer": "its issuer is not a trusted broker",
    "jku_not_allowed": "its key URL (jku) is not on its broker's allow-list",
    "keys_unavailable": "its broker's keys could not be fetched",
    "bad_signature": "its signature does not verify",
    "expired": "it has expired",
    "asserted_in_future": "it is asserted in the future",
    "not_by_dac": "it was not asserted by a data-access committee (by must be dac)",
    "unsupported_conditions": "it has conditions this service cannot evaluate",
    "unknown_dataset": "it names no dataset of this service",
    "too_many_visas": f"the passports hold more than {MAX_VISAS} visas",
}


class VisaRefused(Exception):
    """One visa (or passport) failed a check; ``reason`` is a key of REASONS."""

    def __init__(self, reason: str, claims: Mapping[str, Any] | None = None) -> None:
        super().__init__(REASONS[reason])
        self.reason = reason
        self.issuer = _text(claims, "iss")
        self.jti = _text(claims, "jti")


@dataclass(frozen=True)
class VisaGrant:
    """What a verified ControlledAccessGrants visa grants: a dataset until ``expires_at``."""

    dataset_id: int
    value: str
    issuer: str
    subject: str
    jti: str | None
    source: str
    asserted_at: datetime
    expires_at: datetime
    visa_hash: str


@dataclass(frozen=True)
class Refusal:
    kind: str  # "passport" (the wrapper failed) or "visa"
    position: int  # 1-based, in the order presented (visas counted across passports)
    reason: str
    issuer: str | None
    jti: str | None


@dataclass(frozen=True)
class Evaluation:
    accepted: list[VisaGrant] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


@dataclass(frozen=True)
class PassportVerifier:
    brokers: tuple[TrustedBroker, ...]
    fetcher: JwksFetcher
    directory: DatasetDirectory
    public_url: str

    def evaluate(self, session: Session, tokens: Sequence[object], now: datetime) -> Evaluation:
        """Every ControlledAccessGrants visa in the passports (or bare visas), each judged.

        Visas of other types (AffiliationAndRole, ...) grant nothing and are passed over.
        """
        result = Evaluation()
        visas: list[object] = []
        for position, token in enumerate(tokens, start=1):
            try:
                visas.extend(self._unwrap(token, now))
            except VisaRefused as refused:
                result.refused.append(Refusal("passport", position, refused.reason,
                                              refused.issuer, refused.jti))
        if len(visas) > MAX_VISAS:
            return Evaluation(refused=[Refusal("passport", 1, "too_many_visas", None, None)])
        for position, visa in enumerate(visas, start=1):
            try:
                grant = self.verify_visa(session, visa, now)
            except VisaRefused as refused:
                result.refused.append(Refusal("visa", position, refused.reason,
                                              refused.issuer, refused.jti))
                continue
            if grant is not None:
                result.accepted.append(grant)
        return result

    def _unwrap(self, token: object, now: datetime) -> list[object]:
        """A passport JWT is checked like a visa (broker, jku, signature, expiry), then opened."""
        header, claims = _peek(token)
        if VISA_CLAIM in claims:
            return [token]
        visas = claims.get(PASSPORT_CLAIM)
        if not isinstance(visas, list):
            raise VisaRefused("malformed", claims)
        self._verified_claims(str(token), header, claims, now)
        return visas

    def verify_visa(self, session: Session, token: object, now: datetime) -> VisaGrant | None:
        """The grant a visa confers, None for a visa of another type; raises VisaRefused."""
        header, claims = _peek(token)
        visa = claims.get(VISA_CLAIM)
        if not isinstance(visa, dict):
            raise VisaRefused("malformed", claims)
        if visa.get("type") != GRANT_TYPE:
            return None
        claims = self._verified_claims(str(token), header, claims, now)
        visa = claims[VISA_CLAIM]
        asserted, value, source = visa.get("asserted"), visa.get("value"), visa.get("source")
        subject = claims.get("sub")
        if not (_is_time(asserted) and isinstance(value, str) and isinstance(source, str)
                and isinstance(subject, str)):
            raise VisaRefused("malformed", claims)
        if _at(asserted) > now + CLOCK_SKEW:
            raise VisaRefused("asserted_in_future", claims)
        if visa.get("by") != "dac":
            raise VisaRefused("not_by_dac", claims)
        if visa.get("conditions") not in (None, []):
            raise VisaRefused("unsupported_conditions", claims)
        dataset_id = self._dataset_named(session, value)
        if dataset_id is None:
            raise VisaRefused("unknown_dataset", claims)
        return VisaGrant(
            dataset_id=dataset_id, value=value, issuer=str(claims["iss"]), subject=subject,
            jti=_text(claims, "jti"), source=source, asserted_at=_at(asserted),
            expires_at=_at(claims["exp"]),
            visa_hash=hashlib.sha256(str(token).encode()).hexdigest(),
        )

    def _verified_claims(self, token: str, header: Mapping[str, Any],
                         claims: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        if header.get("alg") not in ALGORITHMS:
            raise VisaRefused("algorithm_not_allowed", claims)
        broker = next((b for b in self.brokers if b.issuer == claims.get("iss")), None)
        if broker is None:
            raise VisaRefused("untrusted_issuer", claims)
        jku, kid = header.get("jku"), header.get("kid")
        if not isinstance(jku, str) or jku not in broker.jkus:
            raise VisaRefused("jku_not_allowed", claims)
        if not isinstance(kid, str):
            raise VisaRefused("malformed", claims)
        try:
            keys = self.fetcher.keys_at(jku, kid)
        except KeysUnavailable:
            raise VisaRefused("keys_unavailable", claims) from None
        try:
            verified = jwt.decode(token, keys, algorithms=[str(header["alg"])]).claims
        except (JoseError, ValueError, TypeError):
            raise VisaRefused("bad_signature", claims) from None
        if not _is_time(verified.get("exp")):
            raise VisaRefused("malformed", verified)
        if _at(verified["exp"]) <= now:
            raise VisaRefused("expired", verified)
        return dict(verified)

    def _dataset_named(self, session: Session, value: str) -> int | None:
        """By accession, or by this service's page of the dataset (``<public URL>/datasets/N``)."""
        page_prefix = f"{self.public_url}/datasets/"
        if value.startswith(page_prefix) and value[len(page_prefix):].isdigit():
            dataset_id = int(value[len(page_prefix):])
            found = self.directory.lookup(session, [dataset_id]) if dataset_id < 2**31 else {}
            ref = found.get(dataset_id)
        else:
            ref = self.directory.by_accession(session, [value]).get(value)
        return ref.id if ref is not None and ref.committee_id is not None else None


def _peek(token: object) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims, NOT yet verified: only to find the issuer, jku and kid to check."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        raise VisaRefused("malformed")
    try:
        compact = jws.extract_compact(token.encode("ascii"))
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeError, TypeError):
        raise VisaRefused("malformed") from None
    if not isinstance(claims, dict):
        raise VisaRefused("malformed")
    return dict(compact.protected), claims


def _is_time(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**40


def _at(seconds: Any) -> datetime:
    return datetime.fromtimestamp(int(seconds), tz=UTC)


def _text(claims: Mapping[str, Any] | None, name: str) -> str | None:
    value = (claims or {}).get(name)
    return value[:255] if isinstance(value, str) else None


def visa_list(claim: object) -> list[object]:
    """The ``ga4gh_passport_v1`` claim of userinfo: a list of visa JWTs, or nothing usable."""
    return list(claim) if isinstance(claim, list) else []
