"""A file's index and header, read from storage once per process and kept while the file is
asked for: a ticket then costs only arithmetic on the index and the reads of its chunks'
edge blocks (a CRAM's, none: its containers are served whole). Keyed by the catalogue's
checksums, so a changed catalogue entry is a new key."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from datasets.catalogue.models import DataFile
from datasets.genomics import bgzf
from datasets.genomics.checks import IndexMismatch, Sliceable, load_sliceable
from datasets.genomics.headers import RangeReader
from datasets.genomics.indexes import IndexFormat
from datasets.htsget.errors import SliceUnavailable
from datasets.storage import ObjectNotFound, Storage, StorageUnavailable

KEPT_FILES = 32


class IndexCache:
    """The last KEPT_FILES files' indexes, shared by the threads of one process."""

    def __init__(self, kept: int = KEPT_FILES) -> None:
        self._kept = kept
        self._found: OrderedDict[tuple[str, str, str], Sliceable] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str], load: Callable[[], Sliceable]) -> Sliceable:
        with self._lock:
            if key in self._found:
                self._found.move_to_end(key)
                return self._found[key]
        loaded = load()  # outside the lock: one slow store must not stall other files
        with self._lock:
            self._found[key] = loaded
            while len(self._found) > self._kept:
                self._found.popitem(last=False)
        return loaded


def indexed_file(data_file: DataFile, storage: Storage, cache: IndexCache) -> Sliceable:
    assert data_file.index_key and data_file.index_format and data_file.index_sha256
    index_key, index_format = data_file.index_key, IndexFormat(data_file.index_format)
    expected = data_file.index_sha256

    def load() -> Sliceable:
        with reading(data_file.id):
            data = b"".join(storage.read_chunks(index_key))
            if hashlib.sha256(data).hexdigest() != expected:
                raise SliceUnavailable(f"The stored index of file {data_file.id} no longer "
                                       "matches the catalogue; tell the data steward.")
            return load_sliceable(stored_reader(storage, data_file.storage_key),
                                  data_file.size, data, index_format)

    return cache.get((data_file.storage_key, data_file.sha256, expected), load)


def stored_reader(storage: Storage, key: str) -> RangeReader:
    """Reads of one object, each block read once per ticket even if two chunks share it."""
    seen: dict[tuple[int, int], bytes] = {}

    def read(start: int, length: int) -> bytes:
        if (start, length) not in seen:
            seen[(start, length)] = storage.read_range(key, start, length)
        return seen[(start, length)]

    return read


@contextmanager
def reading(file_id: int) -> Iterator[None]:
    """Storage and format failures of a catalogued file are the server's, said as a 503."""
    try:
        yield
    except (StorageUnavailable, ObjectNotFound, IndexMismatch, bgzf.BgzfError):
        raise SliceUnavailable(f"File {file_id} cannot be read from storage now; try again "
                               "shortly.") from None
