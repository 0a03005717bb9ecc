"""Where file bytes live. One interface; each backend in its own module."""

from __future__ import annotations

from datasets.storage.base import Storage, StorageUnavailable
from datasets.storage.local import LocalStorage

__all__ = ["LocalStorage", "Storage", "StorageUnavailable"]
