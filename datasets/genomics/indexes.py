"""Coordinate indexes of BGZF files: tabix (.tbi), CSI (.csi) and BAI (.bai), read into one
shape, and the query htslib makes of them: which chunks of the file may hold records
overlapping a region (``hts_itr_query``: the bins over the region, less the chunks that end
before the smallest offset the linear index or the bins' ``loffset`` allow).

A chunk is a pair of virtual offsets (first record, just past the last). Everything here is
about bytes already read: fetching an index is the caller's job.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from enum import StrEnum

from datasets.genomics import bgzf

Chunk = tuple[int, int]


class IndexFormat(StrEnum):
    TBI = "tbi"
    CSI = "csi"
    BAI = "bai"
    CRAI = "crai"  # CRAM's, read by datasets/genomics/cram.py


class BadIndex(ValueError):
    """The bytes are not an index of the format named, or are damaged."""


@dataclass
class ReferenceIndex:
    bins: dict[int, list[Chunk]] = field(default_factory=dict)
    loffsets: dict[int, int] = field(default_factory=dict)  # CSI only
    intervals: list[int] = field(default_factory=list)  # the linear index (TBI, BAI)
    span: Chunk | None = None  # from the pseudo-bin: offsets of the first and past the last

    def last_offset(self) -> int:
        ends = [end for chunks in self.bins.values() for _, end in chunks]
        return max([*ends, self.span[1] if self.span else 0])


@dataclass
class CoordinateIndex:
    format: IndexFormat
    min_shift: int
    depth: int
    references: list[ReferenceIndex]
    names: list[str] | None  # tabix-style indexes name their sequences; BAI leaves it to BAM

    @property
    def pseudo_bin(self) -> int:
        return ((1 << ((self.depth + 1) * 3)) - 1) // 7 + 1

    @property
    def max_position(self) -> int:
        return 1 << (self.min_shift + 3 * self.depth)

    def chunks(self, reference: int, start: int, end: int) -> list[Chunk]:
        """Merged chunks that hold every record overlapping [start, end) of a reference."""
        if not 0 <= reference < len(self.references) or start >= end:
            return []
        ref = self.references[reference]
        end = min(end, self.max_position)
        if start >= end:
            return []
        # As htslib (1.10 on) does, chunks are clipped to [minimum, maximum): no record before
        # the linear index's offset overlaps the region, none from the next bin's on does.
        minimum, maximum = self._min_offset(ref, start), self._max_offset(ref, end)
        found = sorted((max(chunk_start, minimum), min(chunk_end, maximum))
                       for bin_ in region_bins(start, end, self.min_shift, self.depth)
                       for chunk_start, chunk_end in ref.bins.get(bin_, ())
                       if chunk_end > minimum and chunk_start < maximum)
        return merge(found)

    def last_offset(self) -> int:
        """Past the last placed record: where unplaced unmapped reads begin (BAM)."""
        return max((ref.last_offset() for ref in self.references), default=0)

    def _min_offset(self, ref: ReferenceIndex, start: int) -> int:
        if self.format is not IndexFormat.CSI:
            if not ref.intervals:
                return 0
            window = min(start >> self.min_shift, len(ref.intervals) - 1)
            return ref.intervals[window]
        # htslib's hts_itr_query for CSI: the nearest bin at or left of the region's first
        # smallest bin that exists, climbing to parents, gives the lower bound.
        bin_ = _bin_first(self.depth) + (start >> self.min_shift)
        while bin_ and bin_ not in ref.loffsets:
            first = (((bin_ - 1) >> 3) << 3) + 1
            bin_ = bin_ - 1 if bin_ > first else (bin_ - 1) >> 3
        return ref.loffsets.get(bin_, 0)


    def _max_offset(self, ref: ReferenceIndex, end: int) -> int:
        """The first offset of the nearest bin right of the region (htslib's max_off): its
        records start at or after ``end``, and so does every record after them."""
        bins = ((1 << (3 * (self.depth + 1))) - 1) // 7
        bin_ = _bin_first(self.depth) + ((end - 1) >> self.min_shift) + 1
        if bin_ >= bins:
            bin_ = 0
        while True:
            while bin_ % 8 == 1:  # a first child: the bins right of it are its parent's
                bin_ = (bin_ - 1) >> 3
            if bin_ == 0:
                return 1 << 64
            if ref.bins.get(bin_):
                return ref.bins[bin_][0][0]
            bin_ += 1


def _bin_first(level: int) -> int:
    return ((1 << (3 * level)) - 1) // 7


def region_bins(start: int, end: int, min_shift: int, depth: int) -> list[int]:
    """htslib's reg2bins: every bin, at every level, that overlaps [start, end)."""
    shift = min_shift + 3 * depth
    end = min(end, 1 << shift) - 1
    found: list[int] = []
    offset = 0
    for level in range(depth + 1):
        found.extend(range(offset + (start >> shift), offset + (end >> shift) + 1))
        offset += 1 << (3 * level)
        shift -= 3
    return found


def bin_interval(bin_: int, min_shift: int, depth: int) -> tuple[int, int]:
    """The [start, end) a bin covers."""
    level = 0
    while level < depth and bin_ >= _bin_first(level + 1):
        level += 1
    width = 1 << (min_shift + 3 * (depth - level))
    start = (bin_ - _bin_first(level)) * width
    return start, start + width


def merge(chunks: list[Chunk]) -> list[Chunk]:
    """Sorted chunks joined where they overlap or meet in one BGZF block, as htslib does:
    the records between them are few, and each join saves an edge block in a ticket."""
    merged: list[Chunk] = []
    for start, end in chunks:
        if merged and (start <= merged[-1][1] or start >> 16 == merged[-1][1] >> 16):
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def parse_index(data: bytes, index_format: IndexFormat) -> CoordinateIndex:
    try:
        if index_format is IndexFormat.BAI:
            return _Reader(data).bai()
        raw = b"".join(block for _, block in bgzf.blocks(data))
        reader = _Reader(raw)
        return reader.tbi() if index_format is IndexFormat.TBI else reader.csi()
    except (struct.error, zlib.error, bgzf.BgzfError, UnicodeDecodeError) as exc:
        raise BadIndex(f"not a readable {index_format.value} index ({exc})") from None


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.at = 0

    def take(self, fmt: str) -> tuple[int, ...]:
        values = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return values

    def one(self, fmt: str) -> int:
        return self.take(fmt)[0]

    def magic(self, expected: bytes) -> None:
        if bytes(self.data[:4]) != expected:
            raise BadIndex(f"the index does not start with {expected!r}")
        self.at = 4

    def names(self) -> list[str]:
        length = self.one("<i")
        text = bytes(self.data[self.at:self.at + length])
        self.at += length
        return [name.decode("utf-8") for name in text.split(b"\0") if name]

    def bai(self) -> CoordinateIndex:
        self.magic(b"BAI\1")
        refs = [self.reference(with_loffset=False) for _ in range(self.one("<i"))]
        return CoordinateIndex(IndexFormat.BAI, 14, 5, refs, None)

    def tbi(self) -> CoordinateIndex:
        self.magic(b"TBI\1")
        count = self.one("<i")
        self.take("<6i")  # format, col_seq, col_beg, col_end, meta, skip
        names = self.names()
        refs = [self.reference(with_loffset=False) for _ in range(count)]
        if len(names) != count:
            raise BadIndex("the index names a different number of sequences than it holds")
        return CoordinateIndex(IndexFormat.TBI, 14, 5, refs, names)

    def csi(self) -> CoordinateIndex:
        self.magic(b"CSI\1")
        min_shift, depth, aux_length = self.take("<3i")
        names: list[str] | None = None
        if aux_length >= 28:
            aux = _Reader(bytes(self.data[self.at:self.at + aux_length]))
            aux.take("<6i")
            names = aux.names()
        self.at += aux_length
        index = CoordinateIndex(IndexFormat.CSI, min_shift, depth, [], names)
        index.references = [self.reference(with_loffset=True, pseudo=index.pseudo_bin)
                            for _ in range(self.one("<i"))]
        return index

    def reference(self, *, with_loffset: bool, pseudo: int = 37450) -> ReferenceIndex:
        ref = ReferenceIndex()
        for _ in range(self.one("<i")):
            bin_ = self.one("<I")
            if with_loffset:
                ref.loffsets[bin_] = self.one("<Q")
            count = self.one("<i")
            pairs = struct.unpack_from(f"<{2 * count}Q", self.data, self.at)
            self.at += 16 * count
            chunks = list(zip(pairs[::2], pairs[1::2], strict=True))
            if bin_ == pseudo:
                ref.span = chunks[0] if chunks else None
            else:
                ref.bins[bin_] = chunks
        if not with_loffset:
            count = self.one("<i")
            ref.intervals = list(struct.unpack_from(f"<{count}Q", self.data, self.at))
            self.at += 8 * count
        return ref
