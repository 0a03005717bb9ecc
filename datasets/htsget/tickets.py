"""Issuing an htsget ticket: the use case behind ``/ga4gh/htsget/v1/{reads,variants}/{id}``.

Authorised exactly as a download (``require_access``: a live grant under the current
agreement, or a visa) and audited as one, a ``url:issue`` event whose details name the
regions; the refusals are the downloads' too. The ticket's byte ranges all point at one
signed URL of the stored file, which expires as a download URL does, so a revoked grant
gets no further ticket and its URLs end with their lifetime.

A file is sliced in the format it is stored in: BGZF files (VCF, BAM) cut at record
boundaries, CRAMs as whole containers (datasets/genomics/cram.py says why).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from access.identity.actor import Actor
from audit.log.actions import AuditAction
from audit.log.append import record_event
from core.errors import NotFound
from core.metrics import count_signed_url_issued
from datasets.catalogue.models import DataFile, Tier
from datasets.catalogue.queries import get_live_file
from datasets.downloads.signed_urls import (
    UrlLifetime,
    download_gate,
    require_access,
    require_store_up,
    url_principal,
)
from datasets.genomics import bgzf, cram, indexes, slices
from datasets.genomics.checks import Indexed, Sliceable
from datasets.genomics.headers import RangeReader, Reference
from datasets.genomics.indexes import Chunk
from datasets.htsget.errors import InvalidRange, UnsupportedFormat
from datasets.htsget.loading import IndexCache, indexed_file, reading, stored_reader
from datasets.htsget.queries import UNPLACED, Endpoint, Region, SliceQuery
from datasets.storage import Storage
from datasets.storage.health import StoreHealth

# Ranges are cut to at most this: a failed block is retried alone (spec: "~1GB" at most).
MAX_RANGE_BYTES = 256 * 1024 * 1024
MEDIA_TYPES = {
    "VCF": "application/vnd.ga4gh.vcf",
    "BAM": "application/vnd.ga4gh.bam",
    "CRAM": "application/vnd.ga4gh.cram",
}


@dataclass(frozen=True)
class TicketContext:
    storage: Storage
    health: StoreHealth
    lifetime: UrlLifetime
    cache: IndexCache
    now: datetime
    passport_dataset_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Ticket:
    format: str
    urls: list[dict[str, Any]]
    expires_at: datetime
    size: int  # bytes of the concatenation

    def body(self) -> dict[str, Any]:
        return {"htsget": {"format": self.format, "urls": self.urls}}


def sliceable_file(session: Session, endpoint: Endpoint, object_id: str) -> DataFile:
    """The catalogue file an id names, if this endpoint can slice it."""
    if not object_id.isascii() or not object_id.isdigit() or len(object_id) > 18:
        raise NotFound(f"No {endpoint.value} object {object_id[:100]!r}.")
    data_file = get_live_file(session, int(object_id))
    if data_file.data_format not in endpoint.served or not data_file.index_key:
        raise NotFound(
            f"File {data_file.id} is not an indexed "
            f"{' or '.join(endpoint.served)} file; /{endpoint.value} serves only "
            "those."
        )
    return data_file


def issue_ticket(
    session: Session,
    actor: Actor,
    endpoint: Endpoint,
    object_id: str,
    query: SliceQuery,
    ctx: TicketContext,
) -> Ticket:
    data_file = sliceable_file(session, endpoint, object_id)
    stored_format = data_file.data_format or ""
    if query.format is not None and query.format != stored_format:
        raise UnsupportedFormat(
            f"File {data_file.id} is stored as {stored_format} and is "
            "served as stored, never transcoded: ask for "
            f"format={stored_format} or leave format out."
        )
    basis = "open"
    if data_file.tier != Tier.OPEN:
        gate = download_gate(session, actor, data_file.id, ctx.now)
        basis = require_access(session, actor, gate, ctx.now, ctx.passport_dataset_ids)
    require_store_up(ctx.health, data_file)
    indexed = indexed_file(data_file, ctx.storage, ctx.cache)
    with reading(data_file.id):
        pieces = _pieces(indexed, query, stored_reader(ctx.storage, data_file.storage_key))
    expires_at = ctx.now + timedelta(seconds=ctx.lifetime.default_seconds)
    url = ctx.storage.signed_url(
        data_file.storage_key,
        user=url_principal(actor),
        expires_at=expires_at,
        filename=data_file.name,
    )
    urls = _urls(pieces, url, stored_format)
    size = sum(_size(piece) for piece, _ in pieces)
    details: dict[str, Any] = {
        "dataset_id": data_file.dataset_id,
        "expires_at": expires_at.isoformat(),
        "htsget": {
            "endpoint": endpoint.value,
            "format": stored_format,
            "class": "header" if query.header_only else None,
            "regions": None
            if query.regions is None
            else [region.describe() for region in query.regions],
            "blocks": len(urls),
            "bytes": size,
        },
    }
    if basis not in ("grant", "open"):
        details["granted_by"] = basis
    record_event(
        session,
        actor.audit(),
        AuditAction.URL_ISSUE,
        now=ctx.now,
        target_type="file",
        target_id=data_file.id,
        details=details,
    )
    count_signed_url_issued()
    return Ticket(stored_format, urls, expires_at, size)


def _pieces(
    sliceable: Sliceable, query: SliceQuery, read: RangeReader
) -> list[tuple[slices.Piece, str]]:
    if isinstance(sliceable, cram.CramFile):
        return _cram_pieces(sliceable, query)
    header = [(slices.header_piece(sliceable.header), "header")]
    if query.header_only:
        return [*header, (slices.eof_piece(), "header")]
    chunks = _chunks(sliceable, query.regions)
    body = [(piece, "body") for piece in slices.body_pieces(chunks, sliceable.header, read)]
    return [*header, *body, (slices.eof_piece(), "body")]


def _chunks(indexed: Indexed, regions: tuple[Region, ...] | None) -> list[Chunk]:
    header = indexed.header
    end_of_records = bgzf.virtual_offset(header.eof_start, 0)
    if regions is None:
        return [(header.first_record, end_of_records)]
    names = indexed.reference_names()
    found: list[Chunk] = []
    for region in regions:
        if region.reference_name == UNPLACED:
            start = max(header.first_record, indexed.index.last_offset())
            found += [(start, end_of_records)] if start < end_of_records else []
            continue
        _check_region(region, names, header.references)
        if region.reference_name in names:
            end = indexed.index.max_position if region.end is None else region.end
            found += indexed.index.chunks(
                names.index(region.reference_name), region.start or 0, end
            )
    return indexes.merge(sorted(found))


def _cram_pieces(cram_file: cram.CramFile, query: SliceQuery) -> list[tuple[slices.Piece, str]]:
    """The stored head inline, whole containers as stored, the EOF container inline."""
    head = (slices.Inline(cram_file.head), "header")
    if query.header_only:
        return [head, (slices.Inline(cram.EOF_CONTAINER), "header")]
    names = cram_file.reference_names()
    if query.regions is None:
        offsets = [entry.container_offset for entry in cram_file.entries]
    else:
        offsets = []
        for region in query.regions:
            if region.reference_name == UNPLACED:
                offsets += cram_file.containers(cram.UNMAPPED, 0, None)
                continue
            _check_region(region, names, cram_file.references)
            offsets += cram_file.containers(
                names.index(region.reference_name), region.start or 0, region.end
            )
    body: list[tuple[slices.Piece, str]] = [
        (slices.StoredRange(start, end), "body")
        for start, end in cram_file.container_ranges(offsets)
    ]
    return [head, *body, (slices.Inline(cram.EOF_CONTAINER), "body")]


def _check_region(region: Region, names: list[str], references: tuple[Reference, ...]) -> None:
    """NotFound for a reference the file does not have, InvalidRange for a start past it."""
    declared = {ref.name: ref.length for ref in references}
    if region.reference_name not in names and region.reference_name not in declared:
        raise NotFound(
            f"No reference {region.reference_name[:100]!r} in this file.",
            details={"references": sorted(declared or names)[:50]},
        )
    length = declared.get(region.reference_name)
    start = region.start or 0
    if length is not None and start > length:
        raise InvalidRange(
            f"start ({start}) is past the end of {region.reference_name} ({length})."
        )


def _urls(
    pieces: list[tuple[slices.Piece, str]], url: str, data_format: str
) -> list[dict[str, Any]]:
    media = MEDIA_TYPES.get(data_format, "application/octet-stream")
    urls: list[dict[str, Any]] = []
    for piece, data_class in pieces:
        if isinstance(piece, slices.Inline):
            encoded = base64.b64encode(piece.data).decode("ascii")
            urls.append({"url": f"data:{media};base64,{encoded}", "class": data_class})
            continue
        for start in range(piece.start, piece.end, MAX_RANGE_BYTES):
            end = min(start + MAX_RANGE_BYTES, piece.end)
            urls.append(
                {"url": url, "headers": {"Range": f"bytes={start}-{end - 1}"}, "class": data_class}
            )
    return urls


def _size(piece: slices.Piece) -> int:
    return len(piece.data) if isinstance(piece, slices.Inline) else piece.size
