"""Serving the local backend's signed URLs: the signature is checked, then what allowed the
URL (grant, visa, token) must still hold at each request for bytes; every answer is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import false, or_, select, true
from sqlalchemy.orm import Session, joinedload

from access.grants import lapse_reason, lapsed_grant, live_grant_exists
from access.identity.actor import Actor
from access.identity.models import User
from access.passports.passport_grants import live_passport_grant_exists
from access.tokens import live_token_exists
from audit.log.actions import AuditAction
from audit.log.append import record_event
from core.errors import Forbidden, NotFound, RefusalNote
from core.metrics import count_signed_url_refused
from datasets.catalogue.models import DataFile, Tier
from datasets.downloads.signed_urls import URL_PRINCIPAL
from datasets.errors import FileRetired
from datasets.storage.local import URL_PREFIX, InvalidSignature, LocalStorage


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
    principal = URL_PRINCIPAL.fullmatch(user)
    if principal is not None:
        user_id, token_id, presented = principal.groups()
        actor = Actor(
            user=session.get(User, int(user_id), options=[joinedload(User.roles)]),
            origin=actor.origin,
            token_id=int(token_id) if token_id else None,
        )
    path = storage.resolve(key)
    data_file, still = _file_by_key(session, actor, key, now)
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
            still,
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


@dataclass(frozen=True)
class StillAllowed:
    """What allowed a URL, as it stands now: the token that asked is live (or none did),
    and a live grant or a stored visa opens the file's dataset."""

    token_live: bool
    opened: bool


def _file_by_key(
    session: Session, actor: Actor, key: str, now: datetime
) -> tuple[DataFile | None, StillAllowed]:
    """The file a URL's key names, and whether what allowed the URL still holds: one
    statement on every request for bytes."""
    user, token_id = actor.user, actor.token_id
    token_live = true() if token_id is None else live_token_exists(token_id, now)
    opened = false() if user is None else or_(
        live_grant_exists(user.id, DataFile.dataset_id, now),
        live_passport_grant_exists(user.id, DataFile.dataset_id, now),
    )
    row = session.execute(
        select(DataFile, token_live, opened).where(DataFile.storage_key == key)
    ).first()
    if row is None:
        return None, StillAllowed(False, False)
    return row[0], StillAllowed(bool(row[1]), bool(row[2]))


def _require_still_allowed(
    session: Session,
    actor: Actor,
    data_file: DataFile,
    still: StillAllowed,
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
    elif not still.token_live:
        reason = "token_revoked"
    elif not presented and not still.opened:
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
