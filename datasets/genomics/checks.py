"""Does an index belong to its data file? Checked when both are registered, by reading the
header and a few records at offsets the index names, never the whole file.

An index built from another file (or another version of this one) points into the wrong
bytes: its sequences are not the file's, its offsets run past the end, or the record found
at an offset is on another sequence or outside the bin that names it.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from datasets.genomics import bgzf
from datasets.genomics.headers import BadData, DataFormat, Header, RangeReader, read_header
from datasets.genomics.indexes import (
    BadIndex,
    CoordinateIndex,
    IndexFormat,
    bin_interval,
    parse_index,
)

SAMPLED_CHUNKS = 16
FITS = {DataFormat.VCF: {IndexFormat.TBI, IndexFormat.CSI},
        DataFormat.BAM: {IndexFormat.BAI, IndexFormat.CSI}}


class IndexMismatch(ValueError):
    """The index cannot serve this file; the message says why."""


@dataclass(frozen=True)
class Indexed:
    """A data file with its index, read and checked: what slicing it needs."""

    header: Header
    index: CoordinateIndex

    def reference_names(self) -> list[str]:
        if self.index.names is not None:
            return self.index.names
        return [ref.name for ref in self.header.references]


def load_indexed(read: RangeReader, size: int, index_bytes: bytes,
                 index_format: IndexFormat) -> Indexed:
    """The header and index, after every check; IndexMismatch names the first that fails."""
    try:
        header = read_header(read, size)
        index = parse_index(index_bytes, index_format)
    except (BadData, BadIndex) as exc:
        raise IndexMismatch(str(exc)) from None
    if index_format not in FITS[header.format]:
        raise IndexMismatch(f"a {index_format.value} index cannot index a {header.format} "
                            "file")
    if header.eof_start == size:
        raise IndexMismatch("the file lacks the BGZF end-of-file block: is it truncated?")
    indexed = Indexed(header, index)
    _check_references(indexed)
    _check_offsets(indexed, read)
    return indexed


def _check_references(indexed: Indexed) -> None:
    header, index = indexed.header, indexed.index
    if index.names is None:
        if len(index.references) != len(header.references):
            raise IndexMismatch(f"the index covers {len(index.references)} references, the "
                                f"file's header names {len(header.references)}")
        return
    declared = {ref.name for ref in header.references}
    unknown = [name for name in index.names if declared and name not in declared]
    if unknown:
        raise IndexMismatch(f"the index names sequences the header does not: "
                            f"{', '.join(unknown[:5])}")


def _check_offsets(indexed: Indexed, read: RangeReader) -> None:
    index, header = indexed.index, indexed.header
    names = indexed.reference_names()
    limit = bgzf.virtual_offset(header.eof_start, 0)
    located = []
    for number, ref in enumerate(index.references):
        for bin_, chunks in ref.bins.items():
            for start, end in chunks:
                if end > limit or start < header.first_record:
                    raise IndexMismatch("the index points outside the file's records")
                located.append((start, number, bin_))
    located.sort()
    step = max(1, len(located) // SAMPLED_CHUNKS)
    for start, number, bin_ in located[::step][:SAMPLED_CHUNKS + 1]:
        name, position = _record_at(read, start, header.format, names)
        low, high = bin_interval(bin_, index.min_shift, index.depth)
        if name != names[number] or not low <= position < high:
            raise IndexMismatch(
                f"the record at offset {start >> 16}:{start & 0xFFFF} is on {name}:{position}, "
                f"the index says {names[number]}:{low}-{high}")


def _record_at(read: RangeReader, offset: int, fmt: DataFormat, names: list[str]
               ) -> tuple[str, int]:
    """Sequence and 0-based start of the record at a virtual offset."""
    coffset, within = bgzf.split(offset)
    raw = read(coffset, 2 * bgzf.MAX_BLOCK)  # a record's first bytes may spill into the next
    try:
        data = b"".join(block for _, block in bgzf.blocks(raw))[within:]
        if fmt is DataFormat.BAM:
            ref_id, position = struct.unpack_from("<ii", data, 4)
            return (names[ref_id] if 0 <= ref_id < len(names) else "*"), position
        chrom, pos = data.split(b"\t", 2)[:2]
        return chrom.decode(), int(pos) - 1
    except (struct.error, ValueError, zlib.error, bgzf.BgzfError):
        raise IndexMismatch(f"no record where the index points ({coffset}:{within})") from None
