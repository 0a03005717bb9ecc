"""The storage interface every backend implements."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Protocol


class StorageUnavailable(Exception):
    """The backend cannot be reached or used; readiness reports it."""


class Storage(Protocol):
    def signed_url(self, key: str, *, user: str, expires_at: datetime, filename: str) -> str:
        """A URL that lets its holder GET the object until expires_at, and nothing else."""
        ...

    def put_file(self, key: str, source: Path) -> None:
        """Store a local file under key (used when registering files)."""
        ...

    def check(self) -> None:
        """Raise StorageUnavailable unless the backend can serve objects now."""
        ...
