"""Where a BGZF file's header ends and what it names: VCF ``##contig`` lines or BAM
references. Read from the start of the file as far as the header goes, never further."""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from datasets.genomics import bgzf

# Reads ``length`` bytes from ``start`` of the stored object (fewer at its end).
RangeReader = Callable[[int, int], bytes]
FIRST_READ = 256 * 1024
MAX_HEADER = 64 * 1024 * 1024  # a header past this is refused rather than read on


class DataFormat(StrEnum):
    VCF = "VCF"
    BAM = "BAM"
    CRAM = "CRAM"  # not BGZF: see datasets/genomics/cram.py


class BadData(ValueError):
    """The object is not a BGZF-compressed VCF or BAM, or its header is damaged."""


@dataclass(frozen=True)
class Reference:
    name: str
    length: int | None  # VCF contig lines may leave it out


@dataclass(frozen=True)
class Header:
    format: DataFormat
    data: bytes  # the header, uncompressed, up to the first record
    first_record: int  # virtual offset
    references: tuple[Reference, ...]
    eof_start: int  # where the final empty block begins (the file size if there is none)


def read_header(read: RangeReader, size: int) -> Header:
    length = FIRST_READ
    while True:
        raw = read(0, min(length, size))
        try:
            found = _parse(raw, size)
        except (struct.error, UnicodeDecodeError, bgzf.BgzfError) as exc:
            raise BadData(f"the file is not a BGZF-compressed VCF or BAM ({exc})") from None
        if found is not None:
            data, first_record, refs, fmt = found
            tail = read(max(size - len(bgzf.EOF_BLOCK), 0), len(bgzf.EOF_BLOCK))
            eof = size - len(bgzf.EOF_BLOCK) if tail == bgzf.EOF_BLOCK else size
            return Header(fmt, data, first_record, refs, eof)
        if length >= min(size, MAX_HEADER):
            raise BadData("the header does not end within the file's first "
                          f"{min(size, MAX_HEADER):,} bytes")
        length *= 4


def _parse(raw: bytes, size: int
           ) -> tuple[bytes, int, tuple[Reference, ...], DataFormat] | None:
    """None when more bytes are needed to see the header's end."""
    starts, pieces = [], []
    for offset, data in bgzf.blocks(raw):
        starts.append(offset)
        pieces.append(data)
    if not pieces:
        raise bgzf.BgzfError("no whole BGZF block at the start")
    text = b"".join(pieces)
    if text.startswith(b"BAM\1"):
        fmt, parsed = DataFormat.BAM, _bam_header(text)
    elif text.startswith(b"##fileformat=VCF"):
        fmt, parsed = DataFormat.VCF, _vcf_header(text)
    elif len(text) >= 16:
        raise bgzf.BgzfError("the data is neither VCF nor BAM")
    else:
        parsed = None
    if parsed is None:
        if len(raw) >= size:
            raise bgzf.BgzfError("the header never ends")
        return None
    length, refs = parsed
    return text[:length], _virtual(starts, pieces, length, raw), refs, fmt


def _virtual(starts: list[int], pieces: list[bytes], position: int, raw: bytes) -> int:
    """The virtual offset of an uncompressed position (at a block's end: the next block)."""
    for start, piece in zip(starts, pieces, strict=True):
        if position < len(piece):
            return bgzf.virtual_offset(start, position)
        position -= len(piece)
    last = starts[-1]
    return bgzf.virtual_offset(last + bgzf.block_size(raw[last:]), 0)


def _vcf_header(text: bytes) -> tuple[int, tuple[Reference, ...]] | None:
    at = text.find(b"\n#CHROM")
    end = text.find(b"\n", at + 1) if at >= 0 else -1
    if end < 0:
        return None
    refs = []
    for line in text[:at].split(b"\n"):
        if line.startswith(b"##contig=<"):
            fields = dict(part.split(b"=", 1) for part in _split_meta(line[10:].rstrip(b">"))
                          if b"=" in part)
            if b"ID" in fields:
                length = fields.get(b"length", b"")
                refs.append(Reference(fields[b"ID"].decode(),
                                      int(length) if length.isdigit() else None))
    return end + 1, tuple(refs)


def _split_meta(inner: bytes) -> list[bytes]:
    """Comma-separated key=value pairs; a quoted value may hold commas."""
    parts, current, quoted = [], b"", False
    for char in inner:
        byte = bytes((char,))
        if byte == b'"':
            quoted = not quoted
        if byte == b"," and not quoted:
            parts.append(current)
            current = b""
        else:
            current += byte
    return [*parts, current]


def _bam_header(text: bytes) -> tuple[int, tuple[Reference, ...]] | None:
    try:
        (l_text,) = struct.unpack_from("<i", text, 4)
        at = 8 + l_text
        (count,) = struct.unpack_from("<i", text, at)
        at += 4
        refs = []
        for _ in range(count):
            (l_name,) = struct.unpack_from("<i", text, at)
            name = text[at + 4:at + 4 + l_name].rstrip(b"\0").decode()
            (length,) = struct.unpack_from("<i", text, at + 4 + l_name)
            if at + 8 + l_name > len(text):
                return None
            refs.append(Reference(name, length))
            at += 8 + l_name
    except struct.error:
        return None
    return at, tuple(refs)
