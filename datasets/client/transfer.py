"""One file from a signed URL to disk: ranged requests, resume, fresh URLs, SHA-256.

Bytes go to ``<name>.part`` and become ``<name>`` only once their SHA-256 matches the
catalogue's. A ``.part`` left by an interrupted run is continued from its size. Each request
asks for at most ``chunk_size`` bytes, and before each one a URL with less than
``RENEW_MARGIN`` left is replaced by a fresh one from the API: the service then checks the
grant again, so on S3 (where the store serves and cannot ask us) a revoked grant stops the
transfer within one short URL lifetime. A URL that expires anyway (the store answers 403)
is replaced the same way, continuing from the current byte. A checksum mismatch removes the
``.part``: those bytes can never verify, and resuming from them would only fail again.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import requests

from datasets.client.service import CatalogueFile, Service, new_session

READ_BYTES = 1024 * 1024
TIMEOUT_SECONDS = 60
# Fresh URLs that may be refused in a row before we give up; network retries likewise.
MAX_RENEWALS = 3
MAX_RETRIES = 3
RENEW_MARGIN = timedelta(seconds=30)
Progress = Callable[[int], object]


class TransferError(Exception):
    """The file could not be fetched or did not verify; the message says which."""


def target_path(directory: Path, data_file: CatalogueFile) -> Path:
    name = Path(data_file.name).name
    if name in ("", ".", "..") or name != data_file.name.replace("\\", "/").rsplit("/", 1)[-1]:
        raise TransferError(f"file {data_file.id} has an unusable name {data_file.name!r}")
    return directory / name


def download_file(
    service: Service, data_file: CatalogueFile, target: Path, *, chunk_size: int, progress: Progress
) -> str:
    """Fetch into target (resuming its .part); returns what happened, raises TransferError."""
    if target.exists():
        if sha256_of(target) == data_file.sha256:
            return "already present, SHA-256 verified"
        raise TransferError(f"{target} exists with other contents; move it away first")
    part = target.with_name(target.name + ".part")
    offset = part.stat().st_size if part.exists() else 0
    if offset > data_file.size:
        part.unlink()
        offset = 0
    progress(offset)
    resumed = offset > 0
    _fetch(service, data_file, part, offset, chunk_size, progress)
    digest = sha256_of(part)
    if digest != data_file.sha256:
        part.unlink()
        raise TransferError(
            f"SHA-256 mismatch for {data_file.name}: the catalogue says "
            f"{data_file.sha256}, the bytes are {digest}; the partial file "
            "was removed"
        )
    os.replace(part, target)
    return "resumed, SHA-256 verified" if resumed else "SHA-256 verified"


def _fetch(
    service: Service,
    data_file: CatalogueFile,
    part: Path,
    offset: int,
    chunk_size: int,
    progress: Progress,
) -> None:
    signed = service.signed_url(data_file.id)  # before the .part: no grant, no file
    http = new_session()
    renewals = retries = 0
    with part.open("ab") as out:
        while offset < data_file.size:
            end = min(offset + chunk_size, data_file.size) - 1
            if signed.nearly_expired(RENEW_MARGIN):
                signed = service.signed_url(data_file.id)  # raises if the grant is gone
            try:
                response = http.get(
                    signed.url,
                    headers={"Range": f"bytes={offset}-{end}"},
                    stream=True,
                    timeout=TIMEOUT_SECONDS,
                )
            except requests.RequestException as exc:
                retries = _retry(retries, exc)
                continue
            with response:
                if response.status_code in (401, 403):
                    renewals += 1
                    if renewals > MAX_RENEWALS:
                        raise TransferError(
                            f"the store refused {MAX_RENEWALS} fresh URLs in "
                            f"a row ({response.status_code})"
                        )
                    signed = service.signed_url(data_file.id)  # raises if the grant is gone
                    continue
                if response.status_code == 206:
                    if not response.headers.get("Content-Range", "").startswith(f"bytes {offset}-"):
                        raise TransferError(
                            f"the store sent other bytes than asked for {data_file.name}"
                        )
                elif response.status_code == 200:
                    # The store ignored the Range and sends the whole file: start over.
                    out.seek(0)
                    out.truncate()
                    progress(-offset)
                    offset = 0
                else:
                    raise TransferError(
                        f"the store answered {response.status_code} for {data_file.name}"
                    )
                try:
                    for chunk in response.iter_content(READ_BYTES):
                        out.write(chunk)
                        offset += len(chunk)
                        progress(len(chunk))
                except requests.RequestException as exc:
                    out.flush()
                    retries = _retry(retries, exc)
                    continue
            renewals = retries = 0
    if offset != data_file.size:
        raise TransferError(
            f"{data_file.name}: got {offset} bytes, the catalogue says {data_file.size}"
        )


def _retry(retries: int, exc: Exception) -> int:
    if retries >= MAX_RETRIES:
        raise TransferError(f"the transfer kept failing ({type(exc).__name__})") from None
    return retries + 1


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(READ_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()
