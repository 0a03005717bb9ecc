"""Size and checksums of a byte stream, as the catalogue records them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Digests:
    size: int
    sha256: str
    md5: str


def digest(chunks: Iterable[bytes]) -> Digests:
    sha256 = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False)  # MD5 only because dbGaP/DRS manifests carry it
    size = 0
    for chunk in chunks:
        sha256.update(chunk)
        md5.update(chunk)
        size += len(chunk)
    return Digests(size, sha256.hexdigest(), md5.hexdigest())


def file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk
