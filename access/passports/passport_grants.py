"""Access through GA4GH Passports: presented with a request, or brought along at sign-in.

Presented passports (``passport_grants``) grant for that request only, and any visa that
fails a check refuses the whole request with its reason: a client who sends a passport
wants to know why it did not work. Visas in the identity provider's userinfo at sign-in
(``record_sign_in_visas``) never stop the sign-in; the good ones are stored as
PassportGrant rows (hash, issuer, jti, expiry: never the token), which the URL check then
accepts like a grant until the visa's own expiry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnExpressionArgument, Exists, exists, select
from sqlalchemy.orm import Session

from access.errors import PassportRefused
from access.identity.actor import Actor
from access.passports.models import PassportGrant
from access.passports.verify import REASONS, PassportVerifier, Refusal, VisaGrant, visa_list
from audit.log.actions import AuditAction, Outcome
from audit.log.append import record_event
from core.errors import RefusalNote


def passport_grants(
    session: Session,
    actor: Actor,
    passports: list[str],
    *,
    now: datetime,
    verifier: PassportVerifier,
) -> list[VisaGrant]:
    """The dataset grants the passports confer now; raises PassportRefused (403) naming why.

    Each entry is a Passport JWT (``ga4gh_passport_v1``) or a single visa JWT. Accepted
    visas are audited in the caller's transaction; a refusal is audited on its own.
    """
    evaluation = verifier.evaluate(session, passports, now)
    if evaluation.refused:
        first = evaluation.refused[0]
        described = [_described(refusal) for refusal in evaluation.refused]
        raise PassportRefused(
            f"Passport refused: {first.kind} {first.position} {REASONS[first.reason]}.",
            details={"refused": [{k: r[k] for k in ("kind", "position", "reason")}
                                 for r in described]},
            refusal=RefusalNote(AuditAction.VISA_REFUSE, "passport", None,
                                {"refused": described}),
        )
    for grant in evaluation.accepted:
        _record_accepted(session, actor, grant, now)
    return evaluation.accepted


def record_sign_in_visas(
    session: Session, actor: Actor, claim: object, *, now: datetime, verifier: PassportVerifier
) -> list[PassportGrant]:
    """Store the grants of the visas in a ``ga4gh_passport_v1`` userinfo claim; audit each."""
    user = actor.require_user()
    evaluation = verifier.evaluate(session, visa_list(claim), now)
    for refusal in evaluation.refused:
        record_event(session, actor.audit(), AuditAction.VISA_REFUSE, now=now,
                     outcome=Outcome.DENIED, target_type="user", target_id=user.id,
                     details={"source": "sign_in", **_described(refusal)})
    stored = []
    for grant in evaluation.accepted:
        known = session.scalar(select(PassportGrant).where(
            PassportGrant.user_id == user.id, PassportGrant.visa_hash == grant.visa_hash))
        if known is None:
            known = PassportGrant(
                user_id=user.id, dataset_id=grant.dataset_id, issuer=grant.issuer[:512],
                subject=grant.subject[:255], jti=grant.jti, visa_hash=grant.visa_hash,
                asserted_at=grant.asserted_at, expires_at=grant.expires_at, recorded_at=now)
            session.add(known)
            session.flush()
        _record_accepted(session, actor, grant, now, stored_as=known.id)
        stored.append(known)
    return stored


def live_passport_grant_exists(
    user_id: int, dataset_id: int | ColumnExpressionArgument[int], now: datetime
) -> Exists:
    """Whether a visa stored at sign-in still opens the dataset, as an expression."""
    return exists().where(PassportGrant.user_id == user_id, PassportGrant.dataset_id == dataset_id,
                          PassportGrant.asserted_at <= now, PassportGrant.expires_at > now)


def has_live_passport_grant(session: Session, user_id: int, dataset_id: int, now: datetime
                            ) -> bool:
    """Checked on every URL request, like a grant: a visa's expiry ends access by itself."""
    return bool(session.scalar(live_passport_grant_exists(user_id, dataset_id, now).select()))


def _record_accepted(session: Session, actor: Actor, grant: VisaGrant, now: datetime,
                     stored_as: int | None = None) -> None:
    details: dict[str, object] = {
        "issuer": grant.issuer, "subject": grant.subject, "jti": grant.jti,
        "value": grant.value, "source": grant.source, "visa_hash": grant.visa_hash,
        "asserted_at": grant.asserted_at.isoformat(), "expires_at": grant.expires_at.isoformat(),
    }
    if stored_as is not None:
        details["passport_grant_id"] = stored_as
    record_event(session, actor.audit(), AuditAction.VISA_ACCEPT, now=now,
                 target_type="dataset", target_id=grant.dataset_id, details=details)


def _described(refusal: Refusal) -> dict[str, object]:
    return {"kind": refusal.kind, "position": refusal.position, "reason": refusal.reason,
            "issuer": refusal.issuer, "jti": refusal.jti}
