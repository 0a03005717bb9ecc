"""``custodian-download slice``: a region of an indexed VCF, BAM or CRAM through htsget.

The ticket's blocks are fetched in parallel (inline ``data:`` blocks decoded, the others by
their Range headers from the signed URLs, never with the API token) into their places in a
``.part`` file, each checked to be exactly as long as its range; the file takes its name
only when every block is there. A store that refuses an expired URL gets a fresh ticket,
which must describe the same blocks.
"""

from __future__ import annotations

import base64
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from datasets.client.service import Service, ServiceError, new_session
from datasets.client.transfer import MAX_RETRIES, TIMEOUT_SECONDS, TransferError

_REGION = re.compile(r"(?P<name>[^:\s]+)(?::(?P<start>[0-9,]+)(?:-(?P<end>[0-9,]*))?)?")
_RANGE = re.compile(r"bytes=([0-9]+)-([0-9]+)")
READ_BYTES = 1024 * 1024
SUFFIXES = {"VCF": ".vcf.gz", "BAM": ".bam", "CRAM": ".cram"}  # by the ticket's format
Progress = Callable[[int], object]


class RegionError(ValueError):
    """A --region that is not REF, REF:START or REF:START-END."""


@dataclass(frozen=True)
class Block:
    number: int
    offset: int  # where it goes in the slice
    size: int
    data: bytes | None  # an inline block's bytes
    url: str = ""
    headers: tuple[tuple[str, str], ...] = ()


def parse_region(text: str) -> dict[str, Any]:
    """samtools' notation (1-based, inclusive: ``chr7:117480000-117670000``) as htsget's
    0-based, half-open region; ``chr7`` is the whole sequence, ``chr7:5000`` to its end."""
    found = _REGION.fullmatch(text.strip())
    if found is None:
        raise RegionError(f"{text!r} is not a region: give REF, REF:START or REF:START-END")
    region: dict[str, Any] = {"referenceName": found["name"]}
    if found["start"]:
        start = int(found["start"].replace(",", ""))
        if start < 1:
            raise RegionError(f"{text!r}: positions start at 1")
        region["start"] = start - 1
        if found["end"]:
            end = int(found["end"].replace(",", ""))
            if end < start:
                raise RegionError(f"{text!r}: the end is before the start")
            region["end"] = end
    return region


def fetch_ticket(service: Service, file_id: int, regions: list[dict[str, Any]],
                 header_only: bool, endpoints: tuple[str, ...] = ("variants", "reads")
                 ) -> tuple[str, dict[str, Any]]:
    """(endpoint, ticket): variants first, then reads, as the file's format decides (the
    client does not know it: the service answers 404 on the endpoint that is not the
    file's)."""
    body: dict[str, Any] | None = {"regions": regions} if regions else None
    if header_only:
        body = {"class": "header"}
    refused: ServiceError | None = None
    for endpoint in endpoints:
        try:
            return endpoint, service.htsget_ticket(endpoint, file_id, body)["htsget"]
        except ServiceError as exc:
            if exc.status != 404:
                raise
            refused = refused or exc
    raise ServiceError(f"404: file {file_id} is not an indexed VCF or BAM here ({refused})",
                       404)


def blocks_of(ticket: dict[str, Any]) -> list[Block]:
    blocks, offset = [], 0
    for number, entry in enumerate(ticket.get("urls", [])):
        url, headers = str(entry["url"]), dict(entry.get("headers") or {})
        if url.startswith("data:"):
            data = base64.b64decode(url.split(",", 1)[1])
            blocks.append(Block(number, offset, len(data), data))
        else:
            found = _RANGE.fullmatch(headers.get("Range", ""))
            if found is None:
                raise TransferError(f"block {number} names no byte range; cannot check it")
            size = int(found[2]) - int(found[1]) + 1
            blocks.append(Block(number, offset, size, None, url, tuple(headers.items())))
        offset += blocks[-1].size
    return blocks


def download_slice(service: Service, file_id: int, regions: list[dict[str, Any]], *,
                   header_only: bool, target: Path | None, jobs: int,
                   progress_for: Callable[[int], Progress]) -> tuple[Path, int, int]:
    """Writes the slice; returns (path, bytes, blocks)."""
    endpoint, ticket = fetch_ticket(service, file_id, regions, header_only)
    blocks = blocks_of(ticket)
    total = sum(block.size for block in blocks)
    suffix = SUFFIXES.get(str(ticket.get("format")), ".bam")
    path = target or Path(f"slice-{file_id}{suffix}")
    part = path.with_name(path.name + ".part")
    with part.open("wb") as out:
        out.truncate(total)
    progress = progress_for(total)
    renewed = threading.Lock()
    state = {"blocks": blocks}

    def fresh_ticket(stale: list[Block]) -> list[Block]:
        with renewed:
            if state["blocks"] is stale:
                _, again = fetch_ticket(service, file_id, regions, header_only, (endpoint,))
                new = blocks_of(again)
                if [(b.offset, b.size) for b in new] != [(b.offset, b.size) for b in stale]:
                    raise TransferError("the file changed during the download: run it again")
                state["blocks"] = new
            return state["blocks"]

    def one(block: Block) -> int:
        return _write_block(part, block, blocks, fresh_ticket, progress)

    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            written = sum(pool.map(one, blocks))
        if written != total or part.stat().st_size != total:
            raise TransferError(f"got {written} bytes of the {total} the ticket describes")
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, path)
    return path, total, len(blocks)


def _write_block(part: Path, block: Block, blocks: list[Block],
                 fresh_ticket: Callable[[list[Block]], list[Block]], progress: Progress) -> int:
    if block.data is not None:
        _put(part, block.offset, block.data)
        progress(block.size)
        return block.size
    http = new_session()  # one per thread: requests sessions are not thread-safe
    source, current, retries = blocks, block, 0
    while True:
        try:
            data = _get(http, current)
        except _Expired:
            if retries >= MAX_RETRIES:
                raise TransferError(f"block {block.number}: the store refused fresh URLs "
                                    f"{MAX_RETRIES} times") from None
            retries += 1
            source = fresh_ticket(source)  # the URLs expired: the same blocks, signed anew
            current = source[block.number]
            continue
        except requests.RequestException as exc:
            if retries >= MAX_RETRIES:
                raise TransferError(f"block {block.number} kept failing "
                                    f"({type(exc).__name__})") from None
            retries += 1
            continue
        if len(data) != block.size:
            raise TransferError(f"block {block.number}: got {len(data)} bytes, the ticket "
                                f"says {block.size}")
        _put(part, block.offset, data)
        progress(block.size)
        return block.size


class _Expired(Exception):
    pass


def _get(http: requests.Session, block: Block) -> bytes:
    with http.get(block.url, headers=dict(block.headers), stream=True,
                  timeout=TIMEOUT_SECONDS) as response:
        if response.status_code in (401, 403):
            raise _Expired()
        if response.status_code != 206:
            raise TransferError(f"block {block.number}: the store answered "
                                f"{response.status_code}, not the 206 of a byte range")
        return b"".join(response.iter_content(READ_BYTES))


def _put(part: Path, offset: int, data: bytes) -> None:
    with part.open("r+b") as out:
        out.seek(offset)
        out.write(data)
