"""Reading a results file as numbered text lines, gzip or plain, without holding it in memory.

The SHA-256 of the bytes as stored (compressed, if they are) is taken on the way through,
so the import record names exactly the file that was loaded without a second read.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"


class UnreadableSource(Exception):
    """The bytes cannot be read as text: corrupt gzip, or not UTF-8."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _HashingReader(io.RawIOBase):
    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        self.sha256.update(data)
        buffer[: len(data)] = data
        return len(data)


class Source:
    """An open results file: its numbered lines (blank ones skipped) and, once read, its hash."""

    def __init__(self, path: Path, raw: BinaryIO) -> None:
        self.name = path.name
        self._hashing = _HashingReader(raw)
        buffered = io.BufferedReader(self._hashing, buffer_size=1024 * 1024)
        self._stream: io.BufferedIOBase = (
            gzip.GzipFile(fileobj=buffered) if buffered.peek(2)[:2] == GZIP_MAGIC else buffered
        )

    @property
    def sha256(self) -> str:
        return self._hashing.sha256.hexdigest()

    def lines(self) -> Iterator[tuple[int, str]]:
        number = 0
        try:
            for number, raw in enumerate(self._stream, start=1):
                text = raw.decode("utf-8").rstrip("\r\n")
                if text:
                    yield number, text
        except UnicodeDecodeError:
            raise UnreadableSource(number, "the line is not UTF-8 text") from None
        except (OSError, EOFError, zlib.error):
            raise UnreadableSource(number + 1, "the gzip stream is corrupt or truncated") from None


@contextmanager
def open_source(path: Path) -> Iterator[Source]:
    with path.open("rb") as raw:
        yield Source(path, raw)
