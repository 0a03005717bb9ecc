"""Where file bytes live. One interface; each backend in its own module."""

from __future__ import annotations

from config import Settings
from datasets.storage.base import ObjectNotFound, Storage, StorageUnavailable
from datasets.storage.local import LocalStorage
from datasets.storage.s3 import S3Storage

__all__ = [
    "LocalStorage", "ObjectNotFound", "S3Storage", "Storage", "StorageUnavailable",
    "make_storage",
]


def make_storage(settings: Settings) -> Storage:
    """The backend the settings name, built once per process and shared by every request."""
    if settings.storage_backend == "s3":
        return S3Storage(
            settings.s3_bucket, region=settings.s3_region, endpoint_url=settings.s3_endpoint_url,
            addressing_style=settings.s3_addressing_style, key_prefix=settings.s3_key_prefix,
        )
    return LocalStorage(settings.storage_root, settings.url_signing_key, settings.public_url,
                        settings.url_signing_keys_previous)
