"""The storage interface every backend implements."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol


class StorageUnavailable(Exception):
    """The backend cannot be reached or used; readiness reports it."""


class ObjectNotFound(Exception):
    """No object is stored under the key."""


class Storage(Protocol):
    def signed_url(self, key: str, *, user: str, expires_at: datetime, filename: str) -> str:
        """A URL that lets its holder GET the object until expires_at, and nothing else."""
        ...

    def put_file(self, key: str, source: Path) -> None:
        """Store a local file under key (used when registering files)."""
        ...

    def size_of(self, key: str) -> int:
        """The object's size in bytes, cheaply (no download); ObjectNotFound if absent."""
        ...

    def read_chunks(self, key: str) -> Iterator[bytes]:
        """The object's bytes in order, so a caller can checksum it without holding it whole."""
        ...

    def read_range(self, key: str, start: int, length: int) -> bytes:
        """``length`` bytes from ``start`` (fewer at the object's end): an index's view into
        a large object without reading it whole."""
        ...

    def list_objects(self, prefix: str) -> Iterator[tuple[str, int]]:
        """Every stored key that starts with ``prefix``, with its size, in key order: an
        admin registers a folder of objects uploaded by other means."""
        ...

    def check(self) -> None:
        """Raise StorageUnavailable unless the backend can serve objects now."""
        ...
