"""Data-use agreements: admins publish versions, users accept them, downloads check them.

Public interface:

- ``publish_agreement(session, actor, dataset_id, *, text, now)`` — admin only; a new
  version (previous + 1) with the SHA-256 of its text. Audited.
- ``ensure_agreement(session, actor, dataset, *, text, now)`` — set-up (demo, CLI): publish
  version 1 unless the dataset already has an agreement. No role check, like ``ensure_*``.
- ``agreement_status(session, actor, dataset_id)`` — the current version and the actor's
  acceptance of it (None if not accepted, or no agreement at all).
- ``accept_agreement(session, actor, dataset_id, *, version, sha256, now)`` — records the
  acceptance of exactly the current version; an older version is a 409
  (``agreement_outdated``), a hash that is not the version's a 400
  (``agreement_hash_mismatch``). Accepting again is a no-op. Audited.
- ``pending_agreement_version(session, user_id, dataset_id)`` — the download gate (checked
  by ``datasets.downloads`` for controlled files, after the grant): the version still to
  accept, or None; the refusal is ``agreement_not_accepted(...)`` (403,
  ``agreement_not_accepted``, naming the dataset, the version and where to accept it).
  A dataset with no agreement has no gate.

The request workflow accepts for the applicant and each collaborator by calling
``accept_agreement`` as each of them; the gate is per user, so each must accept.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnExpressionArgument, ScalarSelect, case, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from access.identity.models import Role
from audit.log.actions import AuditAction
from audit.log.append import record_event
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, RefusalNote
from datasets.agreements.models import AgreementAcceptance, DataUseAgreement
from datasets.catalogue.models import Dataset


class AgreementNotAccepted(Forbidden):
    code = "agreement_not_accepted"


class AgreementOutdated(Conflict):
    code = "agreement_outdated"


class AgreementHashMismatch(InvalidInput):
    code = "agreement_hash_mismatch"


@dataclass(frozen=True)
class AgreementStatus:
    agreement: DataUseAgreement | None
    acceptance: AgreementAcceptance | None


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def agreement_page(dataset_id: int) -> str:
    return f"/datasets/{dataset_id}/agreement"


def current_agreement(session: Session, dataset_id: int) -> DataUseAgreement | None:
    return session.scalar(
        select(DataUseAgreement).where(DataUseAgreement.dataset_id == dataset_id)
        .order_by(DataUseAgreement.version.desc()).limit(1)
    )


def publish_agreement(
    session: Session, actor: Actor, dataset_id: int, *, text: str, now: datetime
) -> DataUseAgreement:
    actor.require_user()
    if not actor.has_role(Role.ADMIN):
        raise Forbidden(
            "Only an administrator may publish a data-use agreement.",
            refusal=RefusalNote(AuditAction.AGREEMENT_REFUSED, "dataset", str(dataset_id),
                                {"action": "publish"}),
        )
    # The row lock (PostgreSQL) orders two admins publishing at once: versions stay 1, 2, 3.
    locked = session.scalar(select(Dataset.id).where(Dataset.id == dataset_id).with_for_update())
    dataset = session.get(Dataset, dataset_id) if locked is not None else None
    if dataset is None:
        raise NotFound(f"No dataset {dataset_id}.")
    return _publish(session, actor, dataset, text, now)


def ensure_agreement(
    session: Session, actor: Actor, dataset: Dataset, *, text: str, now: datetime
) -> DataUseAgreement:
    return current_agreement(session, dataset.id) or _publish(session, actor, dataset, text, now)


def _publish(session: Session, actor: Actor, dataset: Dataset, text: str, now: datetime
             ) -> DataUseAgreement:
    previous = current_agreement(session, dataset.id)
    agreement = DataUseAgreement(
        dataset_id=dataset.id, version=(previous.version + 1) if previous else 1, text=text,
        sha256=text_sha256(text), created_at=now,
        created_by_id=actor.user_id,
    )
    session.add(agreement)
    session.flush()
    record_event(session, actor.audit(), AuditAction.AGREEMENT_PUBLISH, now=now,
                 target_type="dataset", target_id=dataset.id,
                 details={"agreement_id": agreement.id, "version": agreement.version,
                          "sha256": agreement.sha256})
    return agreement


def agreement_status(session: Session, actor: Actor, dataset_id: int) -> AgreementStatus:
    if session.get(Dataset, dataset_id) is None:
        raise NotFound(f"No dataset {dataset_id}.")
    agreement = current_agreement(session, dataset_id)
    acceptance = None
    if agreement is not None and actor.user_id is not None:
        acceptance = _acceptance(session, agreement.id, actor.user_id)
    return AgreementStatus(agreement, acceptance)


def accept_agreement(
    session: Session, actor: Actor, dataset_id: int, *, version: int, sha256: str,
    now: datetime,
) -> AgreementAcceptance:
    user = actor.require_user()
    status = agreement_status(session, actor, dataset_id)
    agreement = status.agreement
    refusal = RefusalNote(AuditAction.AGREEMENT_REFUSED, "dataset", str(dataset_id),
                          {"action": "accept", "version": version})
    if agreement is None:
        raise NotFound(f"Dataset {dataset_id} has no data-use agreement to accept.")
    if version != agreement.version:
        raise AgreementOutdated(
            f"Version {version} is not the current agreement of dataset {dataset_id}; "
            f"read and accept version {agreement.version}.",
            details={"dataset_id": dataset_id, "current_version": agreement.version,
                     "accept_at": agreement_page(dataset_id)},
            refusal=refusal,
        )
    if not hmac.compare_digest(sha256.lower(), agreement.sha256):
        raise AgreementHashMismatch(
            f"The sha256 does not match version {version}'s text; fetch it again and accept "
            "the text you read.",
            details={"dataset_id": dataset_id, "version": version}, refusal=refusal,
        )
    if status.acceptance is not None:
        return status.acceptance
    acceptance = AgreementAcceptance(agreement_id=agreement.id, user_id=user.id,
                                     sha256=agreement.sha256, accepted_at=now)
    try:
        with session.begin_nested():
            session.add(acceptance)
    except IntegrityError:  # the same user accepting twice at once: the first one stands
        found = _acceptance(session, agreement.id, user.id)
        if found is None:
            raise
        return found
    record_event(session, actor.audit(), AuditAction.AGREEMENT_ACCEPT, now=now,
                 target_type="dataset", target_id=dataset_id,
                 details={"agreement_id": agreement.id, "version": agreement.version,
                          "sha256": agreement.sha256})
    return acceptance


def pending_version_of(
    user_id: int | ColumnExpressionArgument[int], dataset_id: int | ColumnExpressionArgument[int]
) -> ScalarSelect[int | None]:
    """The version the user must still accept, or NULL (accepted, or no agreement), as an
    expression: the newest version joined to my acceptance, one indexed lookup that the
    download path asks inside the query that reads the file."""
    return (
        select(case((AgreementAcceptance.id.is_(None), DataUseAgreement.version)))
        .outerjoin(AgreementAcceptance,
                   (AgreementAcceptance.agreement_id == DataUseAgreement.id)
                   & (AgreementAcceptance.user_id == user_id))
        .where(DataUseAgreement.dataset_id == dataset_id)
        .order_by(DataUseAgreement.version.desc()).limit(1)
        .scalar_subquery()
    )


def pending_agreement_version(session: Session, user_id: int, dataset_id: int) -> int | None:
    """The version the user must still accept, or None (accepted, or no agreement)."""
    version = session.scalar(select(pending_version_of(user_id, dataset_id)))
    return None if version is None else int(version)


def agreement_not_accepted(dataset_id: int, version: int, refusal: RefusalNote | None = None
                           ) -> AgreementNotAccepted:
    return AgreementNotAccepted(
        f"Accept version {version} of the data-use agreement of dataset {dataset_id} "
        f"before downloading: {agreement_page(dataset_id)} (or POST "
        f"/api/v1/datasets/{dataset_id}/agreement/accept).",
        details={"dataset_id": dataset_id, "version": version,
                 "accept_at": agreement_page(dataset_id),
                 "accept_api": f"/api/v1/datasets/{dataset_id}/agreement/accept"},
        refusal=refusal,
    )


def _acceptance(session: Session, agreement_id: int, user_id: int) -> AgreementAcceptance | None:
    return session.scalar(select(AgreementAcceptance).where(
        AgreementAcceptance.agreement_id == agreement_id, AgreementAcceptance.user_id == user_id))
