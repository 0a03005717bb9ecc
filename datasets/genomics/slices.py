"""A slice of a BGZF file as pieces whose concatenation is a valid file: new BGZF blocks
made here (the header, the edges of the chunks, the EOF block) and byte ranges of the
stored file between them.

A chunk of the index starts and ends at record boundaries, but those fall anywhere inside
a BGZF block, and bgzip splits records across blocks. So a chunk's first and last block are
read, cut at the record boundary and compressed anew; the whole blocks between them are
served as they are stored. The concatenation then holds exactly the records of the chunks:
the only superset is what the index's bins hold beyond the region.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from datasets.genomics import bgzf
from datasets.genomics.headers import Header, RangeReader
from datasets.genomics.indexes import Chunk


@dataclass(frozen=True)
class Inline:
    data: bytes  # BGZF blocks, ready to be sent as they are


@dataclass(frozen=True)
class StoredRange:
    start: int
    end: int  # exclusive

    @property
    def size(self) -> int:
        return self.end - self.start


Piece = Inline | StoredRange


def header_piece(header: Header) -> Inline:
    return Inline(bgzf.compress(header.data))


def eof_piece() -> Inline:
    return Inline(bgzf.EOF_BLOCK)


def body_pieces(chunks: Iterable[Chunk], header: Header, read: RangeReader) -> list[Piece]:
    """The records of the chunks (sorted, not overlapping) as inline blocks and ranges."""
    pieces: list[Piece] = []
    pending = bytearray()  # uncompressed bytes waiting to become inline blocks

    def flush() -> None:
        if pending:
            pieces.append(Inline(bgzf.compress(bytes(pending))))
            pending.clear()

    for chunk_start, chunk_end in chunks:
        start_block, start_in = bgzf.split(max(chunk_start, header.first_record))
        end_block, end_in = bgzf.split(chunk_end)
        if start_block == end_block:
            pending += _block(read, start_block)[0][start_in:end_in]
            continue
        raw_start = start_block
        if start_in:
            data, size = _block(read, start_block)
            pending += data[start_in:]
            raw_start += size
        if raw_start < end_block:
            flush()
            pieces.append(StoredRange(raw_start, end_block))
        if end_in:
            pending += _block(read, end_block)[0][:end_in]
    flush()
    return pieces


def _block(read: RangeReader, offset: int) -> tuple[bytes, int]:
    """One block's data and its compressed size."""
    raw = read(offset, bgzf.MAX_BLOCK)
    size = bgzf.block_size(raw[:bgzf.HEADER_SIZE])
    return bgzf.decompress_block(raw[:size]), size
