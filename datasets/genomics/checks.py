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

from datasets.genomics import bgzf, cram
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
        DataFormat.BAM: {IndexFormat.BAI, IndexFormat.CSI},
        DataFormat.CRAM: {IndexFormat.CRAI}}


class IndexMismatch(ValueError):
    """The index cannot serve this file; the message says why."""


@dataclass(frozen=True)
class Indexed:
    """A data file with its index, read and checked: what slicing it needs."""

    header: Header
    index: CoordinateIndex

    @property
    def format(self) -> DataFormat:
        return self.header.format

    def reference_names(self) -> list[str]:
        if self.index.names is not None:
            return self.index.names
        return [ref.name for ref in self.header.references]


Sliceable = Indexed | cram.CramFile


def load_sliceable(read: RangeReader, size: int, index_bytes: bytes,
                   index_format: IndexFormat) -> Sliceable:
    """A BGZF file with its coordinate index, or a CRAM with its CRAI, checked."""
    if index_format is IndexFormat.CRAI:
        return load_cram(read, size, index_bytes)
    return load_indexed(read, size, index_bytes, index_format)


def load_indexed(read: RangeReader, size: int, index_bytes: bytes,
                 index_format: IndexFormat) -> Indexed:
    """The header and index, after every check; IndexMismatch names the first that fails."""
    if read(0, len(cram.MAGIC)) == cram.MAGIC:
        raise IndexMismatch(f"a {index_format.value} index cannot index a CRAM file")
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


def load_cram(read: RangeReader, size: int, index_bytes: bytes) -> cram.CramFile:
    """A CRAM's head and CRAI, after every check; IndexMismatch names the first that fails.

    A CRAI made from another file points where this one has no container, or at a
    container on another reference or over other positions than its line says."""
    try:
        version, head, references = cram.read_head(read, size)
        entries = cram.parse_crai(index_bytes)
    except cram.BadCram as exc:
        raise IndexMismatch(str(exc)) from None
    eof_start = size - len(cram.EOF_CONTAINER)
    if eof_start < len(head) or read(eof_start, len(cram.EOF_CONTAINER)) != cram.EOF_CONTAINER:
        raise IndexMismatch("the file lacks the CRAM end-of-file container: is it truncated?")
    for entry in entries:
        if not len(head) <= entry.container_offset < eof_start:
            raise IndexMismatch("the index points outside the file's containers")
        if not cram.UNMAPPED <= entry.reference_id < len(references):
            raise IndexMismatch(f"the index names reference {entry.reference_id}; the file's "
                                f"header has {len(references)}")
    loaded = cram.CramFile(version, head, references, entries, eof_start)
    by_container: dict[int, list[cram.CraiEntry]] = {}
    for entry in entries:
        by_container.setdefault(entry.container_offset, []).append(entry)
    offsets = sorted(by_container)
    step = max(1, len(offsets) // SAMPLED_CHUNKS)
    for offset in offsets[::step][:SAMPLED_CHUNKS + 1]:
        _check_container(read, offset, by_container[offset], eof_start)
    return loaded


def _check_container(read: RangeReader, offset: int, entries: list[cram.CraiEntry],
                     eof_start: int) -> None:
    try:
        container = cram.container_header(read(offset, cram.CONTAINER_HEADER_READ), offset)
    except cram.BadCram as exc:
        raise IndexMismatch(f"no container where the index points: {exc}") from None
    if container.end > eof_start:
        raise IndexMismatch(f"the container at offset {offset} runs past the file's end")
    for entry in entries:
        if entry.slice_offset not in container.landmarks:
            raise IndexMismatch(f"the container at offset {offset} has no slice at "
                                f"{entry.slice_offset}, where the index says one starts")
        if container.reference_id == cram.MULTI_REFERENCE:
            continue
        inside = (container.start <= entry.start
                  and entry.start + entry.span <= container.start + container.span)
        if container.reference_id != entry.reference_id or (
                entry.reference_id != cram.UNMAPPED and not inside):
            raise IndexMismatch(
                f"the container at offset {offset} holds reference {container.reference_id} "
                f"at {container.start}+{container.span}; the index says "
                f"{entry.reference_id} at {entry.start}+{entry.span}")
