"""The embedded backend: files on local disk, URLs signed with HMAC-SHA256, served by the app.

A URL is ``/storage/<key>?expires=<unix>&user=<principal>&signature=<hex>``; the signature
covers the method, the path, the expiry and the principal (whom the URL is for: the user's
id, with ``-t<token id>`` when an API token asked for it; see datasets/downloads/signed_urls.py), so
changing any of them breaks it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from werkzeug.security import safe_join

from datasets.catalogue.checksums import file_chunks
from datasets.storage.base import ObjectNotFound, StorageUnavailable

URL_PREFIX = "/storage/"


class InvalidSignature(Exception):
    """The URL was not issued by us, was changed, or has expired."""


class LocalStorage:
    def __init__(
        self,
        root: Path,
        signing_key: bytes,
        public_url: str,
        previous_keys: Sequence[bytes] = (),
    ) -> None:
        self.root = root
        self._signing_key = signing_key
        # During a key rotation, URLs signed with the old key stay valid until they expire.
        self._verifying_keys = (signing_key, *previous_keys)
        self._public_url = public_url.rstrip("/")

    def signed_url(self, key: str, *, user: str, expires_at: datetime, filename: str) -> str:
        expires = str(int(expires_at.timestamp()))
        path = URL_PREFIX + quote(key)
        signature = self._sign("GET", path, expires, user)
        query = urlencode({"expires": expires, "user": user, "signature": signature})
        return f"{self._public_url}{path}?{query}"

    def verify(
        self, method: str, path: str, expires: str, user: str, signature: str, now: datetime
    ) -> None:
        """Raise InvalidSignature unless the URL is ours, unchanged and not yet expired."""
        # Constant-time comparison: timing must not reveal how much of a guess was right.
        if not any(
            hmac.compare_digest(
                self._sign(method, path, expires, user, key).encode(), signature.encode()
            )
            for key in self._verifying_keys
        ):
            raise InvalidSignature("signature does not match")
        if not expires.isdigit() or int(expires) <= int(now.timestamp()):
            raise InvalidSignature("the URL has expired")

    def resolve(self, key: str) -> Path | None:
        """The file for a key, or None when the key escapes the root or names no file."""
        joined = safe_join(str(self.root), key)
        if joined is None:
            return None
        path = Path(joined)
        return path if path.is_file() else None

    def put_file(self, key: str, source: Path) -> None:
        joined = safe_join(str(self.root), key)
        if joined is None:
            raise ValueError(f"storage key {key!r} escapes the storage root")
        target = Path(joined)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.resolve() != target.resolve():
            shutil.copyfile(source, target)

    def size_of(self, key: str) -> int:
        return self._existing(key).stat().st_size

    def read_chunks(self, key: str) -> Iterator[bytes]:
        return file_chunks(self._existing(key))

    def read_range(self, key: str, start: int, length: int) -> bytes:
        with self._existing(key).open("rb") as handle:
            handle.seek(start)
            return handle.read(length)

    def list_objects(self, prefix: str) -> Iterator[tuple[str, int]]:
        # Walk only the folder the prefix names (its part up to the last "/").
        folder = safe_join(str(self.root), prefix.rpartition("/")[0] or ".")
        if folder is None:
            return iter(())
        start, found = Path(folder), []
        for path in start.rglob("*"):
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix) and path.is_file() and not path.is_symlink():
                found.append((key, path.stat().st_size))
        return iter(sorted(found))

    def _existing(self, key: str) -> Path:
        path = self.resolve(key)
        if path is None:
            raise ObjectNotFound(key)
        return path

    def check(self) -> None:
        if not self.root.is_dir() or not os.access(self.root, os.R_OK):
            raise StorageUnavailable(f"storage root {self.root} is not a readable directory")

    def _sign(
        self, method: str, path: str, expires: str, user: str, key: bytes | None = None
    ) -> str:
        message = "\n".join((method.upper(), path, expires, user)).encode()
        return hmac.new(key or self._signing_key, message, hashlib.sha256).hexdigest()
