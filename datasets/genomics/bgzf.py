"""BGZF (SAM specification, section 4.1): gzip members of at most 64 KiB, each carrying its
own compressed size, addressed by virtual offsets ``coffset << 16 | uoffset``.

Written here rather than by htslib so the demo's bytes depend only on zlib, as the other
demo files do, and so a ticket can re-encode the edge of a block without any C library.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

# The empty block every BGZF file ends with (SAM spec 4.1.2).
EOF_BLOCK = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
MAX_BLOCK = 65536
# What bgzip puts in one block: the deflated data must fit in 64 KiB even if incompressible.
BLOCK_INPUT = 0xFF00
_HEADER = struct.Struct("<4BI2BH2BH")  # magic, method, flags, mtime, xfl, os, xlen, subfield
HEADER_SIZE = 18
_MAGIC = (0x1F, 0x8B, 8, 4)


class BgzfError(ValueError):
    """The bytes are not BGZF."""


def virtual_offset(coffset: int, uoffset: int) -> int:
    return coffset << 16 | uoffset


def split(offset: int) -> tuple[int, int]:
    """(compressed offset of the block, offset inside its uncompressed data)."""
    return offset >> 16, offset & 0xFFFF


def compress(data: bytes) -> bytes:
    """Data as BGZF blocks, without the EOF block (the caller decides where the file ends)."""
    return b"".join(compress_block(data[start:start + BLOCK_INPUT])
                    for start in range(0, len(data), BLOCK_INPUT))


def compress_block(data: bytes) -> bytes:
    if len(data) > BLOCK_INPUT:
        raise ValueError("a BGZF block holds at most 65280 bytes of input")
    deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = deflater.compress(data) + deflater.flush()
    size = HEADER_SIZE + len(body) + 8
    header = _HEADER.pack(*_MAGIC, 0, 0, 0xFF, 6, ord("B"), ord("C"), 2)
    return header + struct.pack("<H", size - 1) + body + struct.pack(
        "<II", zlib.crc32(data), len(data))


def block_size(header: bytes) -> int:
    """The whole block's size, from its first 18 bytes."""
    if len(header) < HEADER_SIZE:
        raise BgzfError("truncated BGZF block header")
    *magic, _mtime, _xfl, _os, xlen, si1, si2, slen = _HEADER.unpack_from(header)
    if tuple(magic[:4]) != _MAGIC or xlen != 6 or (si1, si2, slen) != (66, 67, 2):
        raise BgzfError("not a BGZF block")
    size: int = struct.unpack_from("<H", header, 16)[0] + 1
    return size


def decompress_block(block: bytes) -> bytes:
    """The data of one whole block, checked against its CRC and length."""
    size = block_size(block)
    if len(block) < size:
        raise BgzfError("truncated BGZF block")
    data = zlib.decompress(block[HEADER_SIZE:size - 8], -15)
    crc, length = struct.unpack_from("<II", block, size - 8)
    if zlib.crc32(data) != crc or len(data) != length:
        raise BgzfError("BGZF block fails its CRC or length check")
    return data


def blocks(data: bytes, start: int = 0) -> Iterator[tuple[int, bytes]]:
    """(compressed offset, uncompressed data) of each whole block in data, from ``start``."""
    offset = start
    while offset + HEADER_SIZE <= len(data):
        size = block_size(data[offset:offset + HEADER_SIZE])
        if offset + size > len(data):
            return
        yield offset, decompress_block(data[offset:offset + size])
        offset += size
