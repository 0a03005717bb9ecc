"""Issuing signed URLs and serving files from the local backend: the audited access path."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.grants import has_live_grant, lapse_reason, lapsed_grant
from access.identity.actor import Actor
from access.identity.models import User
from access.passports.passport_grants import has_live_passport_grant
from access.tokens import token_is_live
from audit.log.actions import AuditAction
from audit.log.append import record_event
from core.errors import Forbidden, InvalidInput, NotAuthenticated, NotFound, RefusalNote
from core.metrics import count_signed_url_issued, count_signed_url_refused
from datasets.agreements.versions import agreement_not_accepted, pending_agreement_version
from datasets.catalogue.models import DataFile, Tier
from datasets.catalogue.queries import get_live_file
from datasets.errors import FileRetired, StorageDown
from datasets.storage import Storage
from datasets.storage.health import StoreHealth
from datasets.storage.local import URL_PREFIX, InvalidSignature, LocalStorage

ANONYMOUS = "anonymous"
# Whom a URL is for, signed into it: "<user id>", or "<user id>-t<token id>" when an API
# token asked for it, so that the file:serve event names the token as url:issue did, and
# "-p" when a passport presented with the request (and so nowhere stored) granted it.
_PRINCIPAL = re.compile(r"([0-9]+)(?:-t([0-9]+))?(-p)?")
PRESENTED = "passport"


def url_principal(actor: Actor, basis: str = "grant") -> str:
    if actor.user is None:
        return ANONYMOUS
    token = f"-t{actor.token_id}" if actor.token_id is not None else ""
    return f"{actor.user.id}{token}{'-p' if basis == PRESENTED else ''}"


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class UrlLifetime:
    default_seconds: int
    max_seconds: int


def issue_signed_url(
    session: Session,
    actor: Actor,
    file_id: int,
    *,
    storage: Storage,
    health: StoreHealth,
    lifetime: UrlLifetime,
    now: datetime,
    expires_in: int | None = None,
    passport_dataset_ids: Collection[int] = (),
) -> SignedUrl:
    """A short-lived URL for one file, only with a live grant on its dataset (or open tier).

    A live grant is one of ours, a visa stored at sign-in, or a visa presented with this
    request (``passport_dataset_ids``, already verified by access.passports).
    """
    seconds = lifetime.default_seconds if expires_in is None else expires_in
    if not 1 <= seconds <= lifetime.max_seconds:
        raise InvalidInput(
            f"expires_in must be between 1 and {lifetime.max_seconds} seconds.",
            details={"expires_in": seconds},
        )
    data_file = get_live_file(session, file_id)
    basis = "open"
    if data_file.tier != Tier.OPEN:
        basis = require_access(session, actor, data_file, now, passport_dataset_ids)
    require_store_up(health, data_file)
    expires_at = now + timedelta(seconds=seconds)
    url = storage.signed_url(
        data_file.storage_key,
        user=url_principal(actor, basis),
        expires_at=expires_at,
        filename=data_file.name,
    )
    details = {"dataset_id": data_file.dataset_id, "expires_at": expires_at.isoformat()}
    if basis not in ("grant", "open"):
        details["granted_by"] = basis
    record_event(
        session,
        actor.audit(),
        AuditAction.URL_ISSUE,
        now=now,
        target_type="file",
        target_id=data_file.id,
        details=details,
    )
    count_signed_url_issued()
    return SignedUrl(url, expires_at)


def require_access(
    session: Session,
    actor: Actor,
    data_file: DataFile,
    now: datetime,
    passport_dataset_ids: Collection[int],
) -> str:
    """What grants the access: ``grant``, ``passport`` (presented) or ``sign_in_visa``.
    Signed URLs and htsget tickets both pass here, so a slice is as governed as a file."""
    refusal = RefusalNote(
        AuditAction.URL_REFUSE, "file", str(data_file.id), {"dataset_id": data_file.dataset_id}
    )
    if actor.user is None:
        count_signed_url_refused("issue")
        raise NotAuthenticated("Sign in to download controlled-access files.", refusal=refusal)
    if has_live_grant(session, actor.user.id, data_file.dataset_id, now):
        _require_current_agreement(session, actor.user.id, data_file)
        return "grant"
    # A visa is a DAC's decision elsewhere, taken under that DAC's own agreement.
    if data_file.dataset_id in passport_dataset_ids:
        return "passport"
    if has_live_passport_grant(session, actor.user.id, data_file.dataset_id, now):
        return "sign_in_visa"
    count_signed_url_refused("issue")
    lapsed = lapsed_grant(session, actor.user.id, data_file.dataset_id, now)
    raise Forbidden(
        "You hold no live grant for this file's dataset. File a data-access request.",
        details={"dataset_id": data_file.dataset_id},
        refusal=RefusalNote(
            AuditAction.URL_REFUSE,
            "file",
            str(data_file.id),
            {
                "dataset_id": data_file.dataset_id,
                "reason": lapse_reason(lapsed),
                "grant_id": lapsed.id if lapsed else None,
            },
        ),
    )


def require_store_up(health: StoreHealth, data_file: DataFile) -> None:
    """No URL while the store failed its last check (datasets/storage/health.py): one
    that would not work is worse than a clear 503. Asked after the access checks, so
    whoever may not download learns nothing about the store."""
    if health.is_up():
        return
    count_signed_url_refused("issue")
    raise StorageDown(
        "The file store is unavailable right now, so no download link is issued. "
        "Please retry shortly.",
        details={"file_id": data_file.id},
        refusal=RefusalNote(
            AuditAction.URL_REFUSE,
            "file",
            str(data_file.id),
            {"dataset_id": data_file.dataset_id, "reason": "storage_unavailable"},
        ),
    )


def _require_current_agreement(session: Session, user_id: int, data_file: DataFile) -> None:
    """A grant made here downloads only under the dataset's current data-use agreement."""
    version = pending_agreement_version(session, user_id, data_file.dataset_id)
    if version is not None:
        count_signed_url_refused("issue")
        raise agreement_not_accepted(
            data_file.dataset_id,
            version,
            RefusalNote(
                AuditAction.URL_REFUSE,
                "file",
                str(data_file.id),
                {
                    "dataset_id": data_file.dataset_id,
                    "reason": "agreement_not_accepted",
                    "version": version,
                },
            ),
        )


@dataclass(frozen=True)
class ServedFile:
    path: Path
    record: DataFile


def open_signed_file(
    session: Session,
    actor: Actor,
    storage: LocalStorage,
    *,
    key: str,
    expires: str,
    user: str,
    signature: str,
    byte_range: str | None,
    now: datetime,
) -> ServedFile:
    """Check a local-backend URL and find its file; the audit names the user the URL was for."""
    refusal = RefusalNote(AuditAction.FILE_REFUSE, "storage_key", key[:128])
    try:
        storage.verify("GET", URL_PREFIX + quote(key), expires, user, signature, now)
    except InvalidSignature as exc:
        count_signed_url_refused("download")
        expired = "expired" in str(exc)
        # Where a fresh link comes from: the dataset page's Download button (a link only
        # lives minutes, so an old one in a bookmark or an email is the usual case).
        known = session.scalar(select(DataFile.dataset_id).where(DataFile.storage_key == key))
        raise Forbidden(
            "This download link is not valid: "
            + (
                "it has expired (links last only minutes)."
                if expired
                else "it was changed or cut short, so it cannot be trusted."
            ),
            details={
                "reason": "expired" if expired else "tampered",
                **({"fresh_link_page": f"/datasets/{known}"} if known else {}),
            },
            refusal=refusal,
        ) from None
    # The signature vouches for the user (and token) ids: the event names them as the actor.
    principal = _PRINCIPAL.fullmatch(user)
    if principal is not None:
        user_id, token_id, presented = principal.groups()
        actor = Actor(
            user=session.get(User, int(user_id)),
            origin=actor.origin,
            token_id=int(token_id) if token_id else None,
        )
    path = storage.resolve(key)
    data_file = session.scalar(select(DataFile).where(DataFile.storage_key == key))
    if path is None or data_file is None:
        count_signed_url_refused("download")
        raise NotFound("No such file.", refusal=refusal)
    if data_file.retired_at is not None:  # URLs issued before it was retired die with it
        count_signed_url_refused("download")
        raise FileRetired(data_file.id, data_file.dataset_id)
    if data_file.tier != Tier.OPEN:
        _require_still_allowed(
            session,
            actor,
            data_file,
            now,
            url_user=user,
            presented=principal is not None and presented is not None,
        )
    record_event(
        session,
        actor.audit(),
        AuditAction.FILE_SERVE,
        now=now,
        target_type="file",
        target_id=data_file.id,
        details={"url_user": user, "range": byte_range or "", "dataset_id": data_file.dataset_id},
    )
    return ServedFile(path, data_file)


def _require_still_allowed(
    session: Session,
    actor: Actor,
    data_file: DataFile,
    now: datetime,
    *,
    url_user: str,
    presented: bool,
) -> None:
    """What allowed the URL must still hold at every request for its bytes (each range),
    so revoking a grant, a visa or the token that asked ends downloads at once, not when the
    URL expires. A passport presented with the request was stored nowhere: its URL lives
    only its own short life."""
    reason = None
    if actor.user is None:
        reason = "unknown_user"
    elif actor.token_id is not None and not token_is_live(session, actor.token_id, now):
        reason = "token_revoked"
    elif not presented and not (
        has_live_grant(session, actor.user.id, data_file.dataset_id, now)
        or has_live_passport_grant(session, actor.user.id, data_file.dataset_id, now)
    ):
        reason = lapse_reason(lapsed_grant(session, actor.user.id, data_file.dataset_id, now))
    if reason is None:
        return
    count_signed_url_refused("download")
    raise Forbidden(
        "Access behind this download link has ended (grant or token revoked or expired).",
        details={"reason": reason},
        refusal=RefusalNote(
            AuditAction.FILE_REFUSE,
            "file",
            str(data_file.id),
            {"dataset_id": data_file.dataset_id, "reason": reason, "url_user": url_user},
        ),
    )
