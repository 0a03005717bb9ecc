"""Registering a data file's coordinate index with it: the index is a stored object of its
own, read whole (indexes are small) and checked to belong to the data file it names, which
is read only where the index points (datasets/genomics/checks.py)."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InvalidInput
from datasets.catalogue.checksums import digest
from datasets.genomics.checks import IndexMismatch, load_sliceable
from datasets.genomics.headers import DataFormat
from datasets.genomics.indexes import IndexFormat
from datasets.storage import ObjectNotFound, Storage

MAX_INDEX_BYTES = 256 * 1024 * 1024
SUFFIXES = {".tbi": IndexFormat.TBI, ".csi": IndexFormat.CSI, ".bai": IndexFormat.BAI,
            ".crai": IndexFormat.CRAI}


@dataclass(frozen=True)
class IndexRecord:
    """What the catalogue records about a data file's index."""

    key: str
    format: IndexFormat
    data_format: DataFormat  # of the data file, as its header says
    size: int
    sha256: str
    md5: str


class IndexRejected(InvalidInput):
    code = "index_rejected"


def index_format_of(key: str) -> IndexFormat:
    for suffix, index_format in SUFFIXES.items():
        if key.lower().endswith(suffix):
            return index_format
    raise IndexRejected(f"index {key!r} must end in .tbi, .csi, .bai or .crai",
                        details={"index": key})


def check_index(storage: Storage, *, data_key: str, data_size: int, index_key: str,
                expected_sha256: str | None = None) -> IndexRecord:
    """The index's record, once it is known to belong to the data file; IndexRejected
    (nothing registered) says why not. ``expected_sha256``: what a manifest claims."""
    index_format = index_format_of(index_key)
    try:
        if storage.size_of(index_key) > MAX_INDEX_BYTES:
            raise IndexRejected(f"index {index_key!r} is larger than {MAX_INDEX_BYTES:,} bytes")
        data = b"".join(storage.read_chunks(index_key))
    except ObjectNotFound:
        raise IndexRejected(f"no object is stored at {index_key!r}",
                            details={"index": index_key}) from None
    sums = digest([data])
    if expected_sha256 is not None and expected_sha256 != sums.sha256:
        raise IndexRejected(f"index sha256 is {expected_sha256} in the manifest but "
                            f"{sums.sha256} in storage", details={"index": index_key})
    try:
        indexed = load_sliceable(
            lambda start, length: storage.read_range(data_key, start, length), data_size, data,
            index_format)
    except IndexMismatch as exc:
        raise IndexRejected(f"index {index_key!r} does not belong to {data_key!r}: {exc}",
                            details={"index": index_key, "file": data_key}) from None
    return IndexRecord(key=index_key, format=index_format, data_format=indexed.format,
                       size=sums.size, sha256=sums.sha256, md5=sums.md5)
