"""GA4GH DRS 1.5 over the catalogue: a DRS object is one catalogue file, its id the file id.

Access URLs come from ``issue_signed_url`` (datasets/downloads/signed_urls.py), so the grant
check, the audit event and the refusals are exactly those of ``GET /api/v1/files/{id}/url``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from audit.log.actions import AuditAction, Outcome
from audit.log.append import batched_events
from config import Settings
from core.errors import DomainError, NotFound
from core.web.routing import LARGEST_ID
from datasets.catalogue.models import DataFile, Tier
from datasets.catalogue.queries import get_live_file
from datasets.downloads.signed_urls import (
    SignedUrl,
    UrlLifetime,
    issue_signed_url,
    issue_signed_urls,
)
from datasets.errors import BulkTooLarge
from datasets.storage import Storage
from datasets.storage.health import StoreHealth

# Every file has one way to fetch it: a signed HTTPS URL from the access endpoint.
ACCESS_ID = "signed-url"
DRS_VERSION = "1.5.0"


@dataclass(frozen=True)
class DrsContext:
    """What every DRS answer is built with: where we are, and how URLs are signed."""

    host: str  # host[:port] of the public URL, for drs:// self URIs
    storage: Storage
    health: StoreHealth
    lifetime: UrlLifetime
    now: datetime
    max_bulk: int
    # The trusted Passport brokers (CUSTODIAN_PASSPORT_TRUSTED_BROKERS), for OPTIONS.
    passport_issuers: tuple[str, ...] = ()
    bearer_issuers: tuple[str, ...] = field(default=())
    # Datasets the passports of this very request grant (verified by access.passports).
    passport_dataset_ids: frozenset[int] = frozenset()
    # DRS 1.5's AccessMethod.cloud and .region: set only when the bytes are in AWS S3 itself
    # (an S3-compatible store elsewhere, or local disk, is no cloud provider's).
    cloud_region: tuple[str, str] | None = None


def file_id_of(object_id: str) -> int:
    """DRS ids are strings; ours are the catalogue's positive integer file ids."""
    file_id = _as_file_id(object_id)
    if file_id is None:
        raise NotFound(f"No DRS object {object_id[:100]!r}.")
    return file_id


def _as_file_id(object_id: str) -> int | None:
    if object_id.isascii() and object_id.isdigit() and 0 < int(object_id) <= LARGEST_ID:
        return int(object_id)
    return None


def describe_object(
    session: Session, actor: Actor, object_id: str, ctx: DrsContext
) -> dict[str, Any]:
    """The DrsObject. Open-tier files carry a ready URL too (issued, so audited, as usual)."""
    data_file = get_live_file(session, file_id_of(object_id))
    # Always available: there is no archival tier that would need thawing first.
    method: dict[str, Any] = {
        "type": "https",
        "access_id": ACCESS_ID,
        "available": True,
        "authorizations": _authorizations(data_file, ctx),
    }
    if ctx.cloud_region is not None:
        method["cloud"], method["region"] = ctx.cloud_region
    if data_file.tier == Tier.OPEN:
        issued = _issue(session, actor, data_file.id, ctx)
        method["access_url"] = {"url": issued.url}
    created = _rfc3339(data_file.created_at)
    described: dict[str, Any] = {
        "id": str(data_file.id),
        "name": data_file.name,
        "self_uri": f"drs://{ctx.host}/{data_file.id}",
        "size": data_file.size,
        "created_time": created,
        "updated_time": created,
        "checksums": [
            {"checksum": data_file.sha256, "type": "sha-256"},
            {"checksum": data_file.md5, "type": "md5"},
        ],
        "access_methods": [method],
    }
    if data_file.description:
        described["description"] = data_file.description
    return described


def object_authorizations(session: Session, object_id: str, ctx: DrsContext) -> dict[str, Any]:
    data_file = get_live_file(session, file_id_of(object_id))
    return {"drs_object_id": str(data_file.id), **_authorizations(data_file, ctx)}


def access_url(
    session: Session, actor: Actor, object_id: str, access_id: str, ctx: DrsContext
) -> SignedUrl:
    file_id = file_id_of(object_id)
    if access_id != ACCESS_ID:  # the object's own 404 or 410 first, if it has one
        data_file = get_live_file(session, file_id)
        raise NotFound(
            f"DRS object {data_file.id} has no access method {access_id[:100]!r}.",
            details={"access_ids": [ACCESS_ID]},
        )
    return _issue(session, actor, file_id, ctx)  # which reads the file with its access


def describe_objects(
    session: Session, actor: Actor, object_ids: Sequence[str], ctx: DrsContext
) -> dict[str, Any]:
    check_bulk_length(len(object_ids), ctx.max_bulk)
    wanted = _unique(object_ids)
    _read_files(session, wanted)
    resolved: list[dict[str, Any]] = []
    unresolved: dict[int, list[str]] = {}
    for object_id in wanted:
        try:
            resolved.append(describe_object(session, actor, object_id, ctx))
        except DomainError as exc:
            unresolved.setdefault(exc.status, []).append(object_id)
    return _bulk(len(wanted), "resolved_drs_object", resolved, unresolved)


def bulk_authorizations(
    session: Session, object_ids: Sequence[str], ctx: DrsContext
) -> dict[str, Any]:
    check_bulk_length(len(object_ids), ctx.max_bulk)
    wanted = _unique(object_ids)
    _read_files(session, wanted)
    resolved: list[dict[str, Any]] = []
    unresolved: dict[int, list[str]] = {}
    for object_id in wanted:
        try:
            resolved.append(object_authorizations(session, object_id, ctx))
        except DomainError as exc:
            unresolved.setdefault(exc.status, []).append(object_id)
    return _bulk(len(wanted), "resolved_drs_object", resolved, unresolved)


def access_urls(
    session: Session, actor: Actor, pairs: Sequence[tuple[str, str]], ctx: DrsContext
) -> dict[str, Any]:
    """Each pair on its own: one refusal does not fail the rest. A refusal is audited in
    this request's transaction (the granted URLs commit with it), as a denied event."""
    check_bulk_length(len(pairs), ctx.max_bulk)
    wanted = list(dict.fromkeys(pairs))
    resolved: list[dict[str, Any]] = []
    unresolved: dict[int, list[str]] = {}
    asked: dict[tuple[str, str], int] = {}  # the pairs with our access id -> file id
    for object_id, access_id in wanted:
        try:
            if access_id != ACCESS_ID:
                access_url(session, actor, object_id, access_id, ctx)  # raises its 404/410
            asked[object_id, access_id] = file_id_of(object_id)
        except DomainError as exc:
            unresolved.setdefault(exc.status, []).append(object_id)
    # Every file asked for, with its access, in one query; the events in one insert.
    with batched_events(session) as events:
        issued = issue_signed_urls(
            session, actor, sorted(set(asked.values())), storage=ctx.storage,
            health=ctx.health, lifetime=ctx.lifetime, now=ctx.now, events=events,
            passport_dataset_ids=ctx.passport_dataset_ids)
        for object_id, access_id in wanted:
            if (object_id, access_id) not in asked:
                continue
            outcome = issued[asked[object_id, access_id]]
            if isinstance(outcome, SignedUrl):
                resolved.append({"drs_object_id": object_id, "drs_access_id": access_id,
                                 "url": outcome.url})
                continue
            unresolved.setdefault(outcome.status, []).append(object_id)
            if outcome.refusal is not None:
                note = outcome.refusal
                events.record(actor.audit(), AuditAction(note.action), now=ctx.now,
                              outcome=Outcome.DENIED, target_type=note.target_type,
                              target_id=note.target_id, details=note.details)
    return _bulk(len(wanted), "resolved_drs_object_access_urls", resolved, unresolved)


def cloud_region(settings: Settings) -> tuple[str, str] | None:
    """("aws", region) when the bytes are in Amazon S3 itself; an S3-compatible store named
    by its endpoint (MinIO, Ceph) or local disk is no cloud provider we could name."""
    if settings.storage_backend == "s3" and settings.s3_endpoint_url is None:
        return "aws", settings.s3_region
    return None


def service_info(session: Session, ctx: DrsContext, public_url: str) -> dict[str, Any]:
    host = ctx.host.split(":")[0]
    count, total = session.execute(
        select(func.count(DataFile.id), func.coalesce(func.sum(DataFile.size), 0)).where(
            DataFile.retired_at.is_(None)
        )
    ).one()
    return {
        "id": ".".join(reversed(host.split("."))) + ".drs",
        "name": "Custodian DRS",
        "type": {"group": "org.ga4gh", "artifact": "drs", "version": DRS_VERSION},
        "description": "Controlled-access genomic files: signed URLs for holders of a live "
        "grant; DRS object ids are the catalogue's file ids.",
        "organization": {"name": host, "url": public_url},
        "documentationUrl": f"{public_url}/api/docs",
        "version": "1.0.0",
        "maxBulkRequestLength": ctx.max_bulk,  # deprecated in 1.5, kept for 1.4 clients
        "drs": {
            "maxBulkRequestLength": ctx.max_bulk,
            "objectCount": int(count),
            "totalObjectSize": int(total),
        },
    }


def _issue(session: Session, actor: Actor, file_id: int, ctx: DrsContext) -> SignedUrl:
    return issue_signed_url(
        session,
        actor,
        file_id,
        storage=ctx.storage,
        health=ctx.health,
        lifetime=ctx.lifetime,
        now=ctx.now,
        passport_dataset_ids=ctx.passport_dataset_ids,
    )


def _authorizations(data_file: DataFile, ctx: DrsContext) -> dict[str, Any]:
    types = ["None", "BearerAuth"] if data_file.tier == Tier.OPEN else ["BearerAuth"]
    if ctx.passport_issuers and data_file.tier != Tier.OPEN:
        types.append("PassportAuth")  # with a sign-in or token too: see datasets/drs/api.py
    return {
        "supported_types": types,
        "bearer_auth_issuers": list(ctx.bearer_issuers),
        "passport_auth_issuers": list(ctx.passport_issuers),
    }


def _read_files(session: Session, object_ids: Sequence[str]) -> None:
    """All the files a bulk request names, in one query: each object's own lookup then
    finds its file in the session instead of asking the database again."""
    ids = [file_id for file_id in map(_as_file_id, object_ids) if file_id is not None]
    if ids:
        session.scalars(select(DataFile).where(DataFile.id.in_(ids))).all()


def check_bulk_length(length: int, max_bulk: int) -> None:
    if length > max_bulk:
        raise BulkTooLarge(length, max_bulk)


def _unique(object_ids: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(object_ids))


def _bulk(
    requested: int, key: str, resolved: list[dict[str, Any]], unresolved: dict[int, list[str]]
) -> dict[str, Any]:
    failed = sum(len(ids) for ids in unresolved.values())
    return {
        "summary": {"requested": requested, "resolved": len(resolved), "unresolved": failed},
        key: resolved,
        "unresolved_drs_objects": [
            {"error_code": code, "object_ids": ids} for code, ids in sorted(unresolved.items())
        ],
    }


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
