"""Issuing signed URLs: the audited access path (datasets/downloads/serving.py serves the
local backend's URLs)."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, Row, bindparam, select
from sqlalchemy.orm import Session

from access.grants import lapse_reason, lapsed_grant, live_grant_exists
from access.identity.actor import Actor
from access.passports.passport_grants import has_live_passport_grant
from audit.log.actions import AuditAction
from audit.log.append import EventBatch, record_event
from core.db import UTCDateTime
from core.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    RefusalNote,
)
from core.metrics import count_signed_url_issued, count_signed_url_refused
from datasets.agreements.versions import agreement_not_accepted, pending_version_of
from datasets.catalogue.models import DataFile, Tier
from datasets.catalogue.queries import CatalogueEntry, get_live_file, live_file
from datasets.errors import StorageDown
from datasets.storage import Storage
from datasets.storage.health import StoreHealth

ANONYMOUS = "anonymous"
# Whom a URL is for, signed into it: "<user id>", or "<user id>-t<token id>" when an API
# token asked for it, so that the file:serve event names the token as url:issue did, and
# "-p" when a passport presented with the request (and so nowhere stored) granted it.
URL_PRINCIPAL = re.compile(r"([0-9]+)(?:-t([0-9]+))?(-p)?")
PRESENTED = "passport"


def url_principal(actor: Actor, basis: str = "grant") -> str:
    if actor.user_id is None:
        return ANONYMOUS
    token = f"-t{actor.token_id}" if actor.token_id is not None else ""
    return f"{actor.user_id}{token}{'-p' if basis == PRESENTED else ''}"


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class UrlLifetime:
    default_seconds: int
    max_seconds: int


@dataclass(frozen=True)
class GatedFile:
    """What deciding and signing read of a file, as a plain record: the ORM file, built
    for each URL only to be read, cost an issuance a twentieth of its Python time. A
    caller that needs more of the file (sizes, checksums) reads the DataFile itself."""

    id: int
    dataset_id: int
    name: str
    tier: str
    storage_key: str
    retired_at: datetime | None

    @classmethod
    def of(cls, data_file: DataFile) -> GatedFile:
        return cls(data_file.id, data_file.dataset_id, data_file.name, data_file.tier,
                   data_file.storage_key, data_file.retired_at)


@dataclass(frozen=True)
class DownloadGate:
    """A live file and what decides one user's access to it, read in one statement."""

    file: GatedFile
    live_grant: bool = False
    pending_agreement: int | None = None  # the agreement version still to accept


# Built once, with its values as parameters: each URL skips building the expression and
# its cache key (a tenth of the request's Python time) and goes straight to the compiled SQL.
# Run on the session's connection as Core: rows, not ORM entities.
_USER_ID, _NOW = bindparam("user_id", type_=Integer), bindparam("now", type_=UTCDateTime())
_GATE_COLUMNS = select(
    DataFile.id, DataFile.dataset_id, DataFile.name, DataFile.tier, DataFile.storage_key,
    DataFile.retired_at,
    live_grant_exists(_USER_ID, DataFile.dataset_id, _NOW),
    pending_version_of(_USER_ID, DataFile.dataset_id),
)
_GATE = _GATE_COLUMNS.where(DataFile.id == bindparam("file_id", type_=Integer))
_GATES = _GATE_COLUMNS.where(DataFile.id.in_(bindparam("file_ids", expanding=True)))


_GateRow = Row[int, int, str, str, str, datetime | None, bool, int | None]


def _gate_of(row: _GateRow) -> DownloadGate:
    file_id, dataset_id, name, tier, storage_key, retired_at, live_grant, pending = row
    return DownloadGate(GatedFile(file_id, dataset_id, name, tier, storage_key, retired_at),
                        bool(live_grant), pending)


def _live_gate(gate: DownloadGate | None, file_id: int) -> DownloadGate:
    """The gate of a file that may still be served: 404 when missing, 410 when retired."""
    live_file(None if gate is None else gate.file, file_id)
    assert gate is not None  # live_file raised otherwise
    return gate


def download_gate(session: Session, actor: Actor, file_id: int, now: datetime) -> DownloadGate:
    """The live file ``file_id`` names, whether the actor holds a live grant on its dataset,
    and which agreement version they must still accept: the file, grant and agreement in
    one query, on every URL, DRS access and htsget ticket."""
    if actor.user_id is None:
        return DownloadGate(GatedFile.of(get_live_file(session, file_id)))
    row = session.connection().execute(
        _GATE, {"user_id": actor.user_id, "now": now, "file_id": file_id}
    ).first()
    return _live_gate(None if row is None else _gate_of(row), file_id)


def download_gates(
    session: Session, actor: Actor, file_ids: Collection[int], now: datetime
) -> dict[int, DownloadGate]:
    """``download_gate`` for several files in one query: the bulk DRS path's. A file that
    is missing from the answer does not exist; a retired one is there, for its 410."""
    ids = list(file_ids)
    if actor.user_id is None:
        return {f.id: DownloadGate(GatedFile.of(f)) for f in session.scalars(
            select(DataFile).where(DataFile.id.in_(ids)))}
    rows = session.connection().execute(
        _GATES, {"user_id": actor.user_id, "now": now, "file_ids": ids})
    return {gate.file.id: gate for gate in map(_gate_of, rows)}


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
    seconds = _seconds(lifetime, expires_in)
    gate = download_gate(session, actor, file_id, now)
    return _issue_for(session, actor, gate, storage=storage, health=health, now=now,
                      seconds=seconds, passport_dataset_ids=passport_dataset_ids)


def issue_signed_urls(
    session: Session,
    actor: Actor,
    file_ids: Sequence[int],
    *,
    storage: Storage,
    health: StoreHealth,
    lifetime: UrlLifetime,
    now: datetime,
    events: EventBatch,
    passport_dataset_ids: Collection[int] = (),
) -> dict[int, SignedUrl | DomainError]:
    """``issue_signed_url`` for several files, each decided on its own (a refusal fails only
    its file), in statements that do not grow with their number: the files with their
    grants and agreements in one query, and the events queued in ``events``, the caller's
    batch (DRS bulk access: 1,000 files per request)."""
    seconds = lifetime.default_seconds
    gates = download_gates(session, actor, file_ids, now)
    outcomes: dict[int, SignedUrl | DomainError] = {}
    for file_id in dict.fromkeys(file_ids):
        try:
            gate = gates.get(file_id)
            outcomes[file_id] = _issue_for(
                session, actor, _live_gate(gate, file_id), storage=storage, health=health,
                now=now, seconds=seconds, passport_dataset_ids=passport_dataset_ids,
                events=events)
        except DomainError as exc:
            outcomes[file_id] = exc
    return outcomes


def _seconds(lifetime: UrlLifetime, expires_in: int | None) -> int:
    seconds = lifetime.default_seconds if expires_in is None else expires_in
    if not 1 <= seconds <= lifetime.max_seconds:
        raise InvalidInput(
            f"expires_in must be between 1 and {lifetime.max_seconds} seconds.",
            details={"expires_in": seconds},
        )
    return seconds


def _issue_for(
    session: Session,
    actor: Actor,
    gate: DownloadGate,
    *,
    storage: Storage,
    health: StoreHealth,
    now: datetime,
    seconds: int,
    passport_dataset_ids: Collection[int],
    events: EventBatch | None = None,
) -> SignedUrl:
    data_file = gate.file
    basis = "open"
    if data_file.tier != Tier.OPEN:
        basis = require_access(session, actor, gate, now, passport_dataset_ids)
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
    if events is None:
        record_event(session, actor.audit(), AuditAction.URL_ISSUE, now=now,
                     target_type="file", target_id=data_file.id, details=details)
    else:
        events.record(actor.audit(), AuditAction.URL_ISSUE, now=now,
                      target_type="file", target_id=data_file.id, details=details)
    count_signed_url_issued()
    return SignedUrl(url, expires_at)


def require_access(
    session: Session,
    actor: Actor,
    gate: DownloadGate,
    now: datetime,
    passport_dataset_ids: Collection[int],
) -> str:
    """What grants the access: ``grant``, ``passport`` (presented) or ``sign_in_visa``.
    Signed URLs and htsget tickets both pass here, so a slice is as governed as a file."""
    data_file = gate.file
    refusal = RefusalNote(
        AuditAction.URL_REFUSE, "file", str(data_file.id), {"dataset_id": data_file.dataset_id}
    )
    user_id = actor.user_id
    if user_id is None:
        count_signed_url_refused("issue")
        raise NotAuthenticated("Sign in to download controlled-access files.", refusal=refusal)
    if gate.live_grant:
        _require_current_agreement(gate)
        return "grant"
    # A visa is a DAC's decision elsewhere, taken under that DAC's own agreement.
    if data_file.dataset_id in passport_dataset_ids:
        return "passport"
    if has_live_passport_grant(session, user_id, data_file.dataset_id, now):
        return "sign_in_visa"
    count_signed_url_refused("issue")
    lapsed = lapsed_grant(session, user_id, data_file.dataset_id, now)
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


def require_store_up(health: StoreHealth, data_file: CatalogueEntry) -> None:
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


def _require_current_agreement(gate: DownloadGate) -> None:
    """A grant made here downloads only under the dataset's current data-use agreement."""
    data_file, version = gate.file, gate.pending_agreement
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
