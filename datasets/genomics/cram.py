"""CRAM 3 as far as slicing needs it: the file definition, the header container's SAM header,
container headers, the CRAI index, and the EOF container (CRAM specification 3.1, sections
6-9 and 12).

CRAM is cut where BGZF cannot be: its records are compressed a container at a time, by
codecs that may need the reference, so a container is served whole, as stored, or not at
all. A slice is the stored head (file definition and header container), every container
the CRAI says holds records overlapping the region, and the EOF container; readers accept
containers whose record counters skip, as they do for any region query. The superset is the
records those containers hold outside the region.
"""

from __future__ import annotations

import gzip
import itertools
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from datasets.genomics.headers import DataFormat, RangeReader, Reference

MAGIC = b"CRAM"
FILE_DEFINITION_SIZE = 26  # magic, major, minor, a 20-byte file id
# The CRAM 3 EOF container: an empty container on reference -1 at position 4542278.
EOF_CONTAINER = bytes.fromhex(
    "0f000000ffffffff0fe0454f4600000000010005bdd94f0001000606010001000100ee63014b")
CONTAINER_HEADER_READ = 8 * 1024  # a header with a thousand landmarks still fits
MAX_HEAD = 64 * 1024 * 1024
MULTI_REFERENCE = -2
UNMAPPED = -1
SAMPLED_CONTAINERS = 16


class BadCram(ValueError):
    """The bytes are not a CRAM 3 file or index as the specification lays them out."""


@dataclass(frozen=True)
class ContainerHeader:
    offset: int  # in the file
    header_size: int
    length: int  # the bytes of its blocks, after the header
    reference_id: int
    start: int  # 1-based, as CRAM stores it
    span: int
    records: int
    landmarks: tuple[int, ...]

    @property
    def end(self) -> int:
        return self.offset + self.header_size + self.length


@dataclass(frozen=True)
class CraiEntry:
    """One line of a CRAI: a slice's records on one reference."""

    reference_id: int
    start: int  # 1-based, 0 for unmapped
    span: int
    container_offset: int  # in the file
    slice_offset: int  # after the container's header
    slice_size: int

    def overlaps(self, start: int, end: int) -> bool:
        """Does it overlap the 0-based, half-open [start, end)?"""
        first = self.start - 1
        return first < end and first + max(self.span, 1) > start


@dataclass(frozen=True)
class CramFile:
    """A CRAM with its CRAI, read and checked: what slicing it needs."""

    version: tuple[int, int]
    head: bytes  # file definition and header container, as stored
    references: tuple[Reference, ...]
    entries: tuple[CraiEntry, ...]
    eof_start: int

    @property
    def format(self) -> DataFormat:
        return DataFormat.CRAM

    def reference_names(self) -> list[str]:
        return [reference.name for reference in self.references]

    def containers(self, reference_id: int, start: int, end: int | None) -> list[int]:
        """Offsets of the containers holding records on a reference that overlap the
        0-based, half-open [start, end); ``end`` None: to the reference's end."""
        return sorted({entry.container_offset for entry in self.entries
                       if entry.reference_id == reference_id
                       and (reference_id == UNMAPPED
                            or entry.overlaps(start, 2**63 if end is None else end))})

    def container_ranges(self, offsets: Iterable[int]) -> list[tuple[int, int]]:
        """Stored byte ranges of containers, each up to the next container (or the EOF
        container), touching ones merged."""
        bounds = sorted({entry.container_offset for entry in self.entries} | {self.eof_start})
        following = dict(itertools.pairwise(bounds))
        ranges: list[tuple[int, int]] = []
        for offset in sorted(set(offsets)):
            end = following[offset]
            if ranges and ranges[-1][1] == offset:
                ranges[-1] = (ranges[-1][0], end)
            else:
                ranges.append((offset, end))
        return ranges


def itf8(data: bytes, at: int) -> tuple[int, int]:
    """An ITF-8 integer at ``at``: its value (signed 32-bit) and where the next field starts."""
    first = data[at]
    if first < 0x80:
        return first, at + 1
    if first < 0xC0:
        return ((first & 0x3F) << 8) | data[at + 1], at + 2
    if first < 0xE0:
        return ((first & 0x1F) << 16) | (data[at + 1] << 8) | data[at + 2], at + 3
    if first < 0xF0:
        value = ((first & 0x0F) << 24) | int.from_bytes(data[at + 1:at + 4], "big")
        return value, at + 4
    value = ((first & 0x0F) << 28) | (int.from_bytes(data[at + 1:at + 4], "big") << 4) \
        | (data[at + 4] & 0x0F)
    return (value - (1 << 32) if value >= 1 << 31 else value), at + 5


def ltf8(data: bytes, at: int) -> tuple[int, int]:
    """An LTF-8 integer: as many leading one bits in the first byte as bytes follow it."""
    first = data[at]
    follow = 0
    while follow < 8 and first & (0x80 >> follow):
        follow += 1
    if len(data) < at + 1 + follow:
        raise IndexError("LTF-8 integer runs past the data")
    rest = int.from_bytes(data[at + 1:at + 1 + follow], "big")
    value = ((first & (0xFF >> (follow + 1))) << (8 * follow)) | rest  # 0xFF >> 9 is 0
    return (value - (1 << 64) if value >= 1 << 63 else value), at + 1 + follow


def container_header(data: bytes, offset: int) -> ContainerHeader:
    """The container header at the start of ``data``, which was read from ``offset``."""
    try:
        (length,) = struct.unpack_from("<i", data, 0)
        at = 4
        reference_id, at = itf8(data, at)
        start, at = itf8(data, at)
        span, at = itf8(data, at)
        records, at = itf8(data, at)
        _, at = ltf8(data, at)  # record counter
        _, at = ltf8(data, at)  # bases
        _, at = itf8(data, at)  # blocks
        count, at = itf8(data, at)
        if not 0 <= count <= 1000:
            raise BadCram(f"a container header at {offset} claims {count} landmarks")
        landmarks = []
        for _ in range(count):
            landmark, at = itf8(data, at)
            landmarks.append(landmark)
        (crc,) = struct.unpack_from("<I", data, at)
    except (struct.error, IndexError):
        raise BadCram(f"no whole container header at offset {offset}") from None
    if zlib.crc32(data[:at]) != crc:
        raise BadCram(f"the container header at offset {offset} fails its CRC32")
    if length < 0:
        raise BadCram(f"the container at offset {offset} has a negative length")
    return ContainerHeader(offset, at + 4, length, reference_id, start, span, records,
                           tuple(landmarks))


def read_head(read: RangeReader, size: int) -> tuple[tuple[int, int], bytes, tuple[Reference, ...]]:
    """Version, the stored head (file definition and header container) and the @SQ lines."""
    definition = read(0, FILE_DEFINITION_SIZE)
    if len(definition) < FILE_DEFINITION_SIZE or not definition.startswith(MAGIC):
        raise BadCram("the file does not start with a CRAM file definition")
    version = (definition[4], definition[5])
    if version[0] != 3:
        raise BadCram(f"CRAM {version[0]}.{version[1]} is not served; CRAM 3 is")
    header = container_header(read(FILE_DEFINITION_SIZE, CONTAINER_HEADER_READ),
                              FILE_DEFINITION_SIZE)
    if header.end > min(size, MAX_HEAD):
        raise BadCram("the header container runs past the file or past "
                      f"{MAX_HEAD:,} bytes")
    head = read(0, header.end)
    return version, head, _references(_sam_header(head[FILE_DEFINITION_SIZE
                                                       + header.header_size:]))


def _sam_header(blocks: bytes) -> str:
    """The SAM header text in the header container's first block."""
    try:
        method, _content_type = blocks[0], blocks[1]
        _, at = itf8(blocks, 2)  # content id
        stored, at = itf8(blocks, at)
        _raw, at = itf8(blocks, at)
        data = blocks[at:at + stored]
        if method == 1:
            data = gzip.decompress(data)
        elif method != 0:
            raise BadCram(f"the SAM header block uses compression method {method}; "
                          "raw or gzip is read")
        (length,) = struct.unpack_from("<i", data, 0)
        return data[4:4 + length].decode("utf-8")
    except (IndexError, struct.error, OSError, EOFError, UnicodeDecodeError):
        raise BadCram("the header container holds no readable SAM header") from None


def _references(text: str) -> tuple[Reference, ...]:
    found = []
    for line in text.splitlines():
        if line.startswith("@SQ\t"):
            tags = dict(field.split(":", 1) for field in line.split("\t")[1:] if ":" in field)
            if "SN" not in tags:
                raise BadCram("an @SQ line of the SAM header has no SN")
            length = tags.get("LN", "")
            found.append(Reference(tags["SN"], int(length) if length.isdigit() else None))
    return tuple(found)


def parse_crai(data: bytes) -> tuple[CraiEntry, ...]:
    """A CRAI: gzip-compressed lines of six tab-separated integers."""
    try:
        text = gzip.decompress(data).decode("ascii")
    except (OSError, EOFError, UnicodeDecodeError, zlib.error):
        raise BadCram("the index is not a gzip-compressed CRAI") from None
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line:
            continue
        fields = line.split("\t")
        try:
            values = [int(field) for field in fields]
        except ValueError:
            values = []
        if len(values) != 6 or min(values[3:]) < 0:
            raise BadCram(f"line {number} of the CRAI is not six integers")
        entries.append(CraiEntry(*values))
    return tuple(entries)
