"""CRAM 3 and its CRAI as slicing reads them, against files htslib (pysam) writes and reads:
a slice of whole containers must hold every read pysam's own region query finds, and an
index must be refused when it is not the file's."""

from __future__ import annotations

import gzip
import random
import zlib
from pathlib import Path

import pysam
import pytest

from datasets.genomics import cram
from datasets.genomics.checks import IndexMismatch, load_cram, load_indexed
from datasets.genomics.indexes import IndexFormat

pysam.set_verbosity(0)
CONTIGS = {"chr1": 2_000_000, "chr2": 1_500_000}
PER_CONTAINER = 200
Read = tuple[str, int, int]


def write_cram(path: Path, seed: int, *, reads: int = 3000, version: str = "3.0") -> Path:
    rng = random.Random(seed)
    header = {"HD": {"VN": "1.6", "SO": "coordinate"},
              "SQ": [{"SN": name, "LN": length} for name, length in CONTIGS.items()]}
    placed = sorted((ref, rng.randrange(length - 100)) for ref, length in
                    enumerate(CONTIGS.values()) for _ in range(reads // 2))
    options = ["no_ref=1", f"version={version}", f"seqs_per_slice={PER_CONTAINER}"]
    with pysam.AlignmentFile(str(path), "wc", header=header, format_options=options) as out:
        for number, (ref, position) in enumerate([*placed, (-1, -1), (-1, -1)]):
            read = pysam.AlignedSegment(out.header)
            read.query_name, read.reference_id, read.reference_start = f"r{number}", ref, position
            read.flag = 4 if ref < 0 else 0
            read.cigarstring = None if ref < 0 else ("50M" if number % 3 else "20M300N30M")
            read.query_sequence = "".join(rng.choice("ACGT") for _ in range(50))
            read.query_qualities = pysam.qualitystring_to_array("F" * 50)
            read.mapping_quality = 0 if ref < 0 else 60
            out.write(read)
    pysam.index(str(path))
    return Path(f"{path}.crai")


def load(path: Path, index: Path) -> cram.CramFile:
    data = path.read_bytes()
    return load_cram(lambda start, length: data[start:start + length], len(data),
                     index.read_bytes())


def sliced(path: Path, found: cram.CramFile, offsets: list[int]) -> bytes:
    data = path.read_bytes()
    body = b"".join(data[start:end] for start, end in found.container_ranges(offsets))
    return found.head + body + cram.EOF_CONTAINER


def reads_of(path: Path, region: tuple[str, int, int] | None = None) -> list[Read]:
    with pysam.AlignmentFile(str(path)) as found:
        if region is None:
            return [(r.query_name or "", r.reference_id, r.reference_start)
                    for r in found.fetch(until_eof=True)]
    with pysam.AlignmentFile(str(path), index_filename=f"{path}.crai") as found:
        return [(r.query_name or "", r.reference_id, r.reference_start)
                for r in found.fetch(*region)]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, cram.CramFile]:
    path = tmp_path_factory.mktemp("cram") / "reads.cram"
    return path, load(path, write_cram(path, 1))


@pytest.mark.parametrize(("encoded", "value"), [
    (b"\x00", 0), (b"\x7f", 127), (b"\x80\x80", 128), (b"\xbf\xff", 16383),
    (b"\xc0\x40\x00", 16384), (b"\xe0\x45\x4f\x46", 4542278),
    (b"\xf0\x80\x00\x00\x00", 0x08000000), (b"\xff\xff\xff\xff\x0f", -1)])
def test_itf8_reads_the_specifications_encodings(encoded: bytes, value: int) -> None:
    assert cram.itf8(encoded + b"rest", 0) == (value, len(encoded))


@pytest.mark.parametrize(("encoded", "value"), [
    (b"\x00", 0), (b"\x80\xff", 255), (b"\xc0\x40\x00", 16384),
    (b"\xfe" + (2**48).to_bytes(7, "big"), 2**48), (b"\xff" + b"\xff" * 8, -1)])
def test_ltf8_reads_the_specifications_encodings(encoded: bytes, value: int) -> None:
    assert cram.ltf8(encoded, 0) == (value, len(encoded))


def test_the_eof_container_parses_as_an_empty_container_on_no_reference() -> None:
    header = cram.container_header(cram.EOF_CONTAINER, 100)
    assert (header.reference_id, header.start, header.records) == (-1, 4542278, 0)
    assert header.end == 100 + len(cram.EOF_CONTAINER)


def test_a_damaged_container_header_fails_its_crc() -> None:
    damaged = bytearray(cram.EOF_CONTAINER)
    damaged[10] ^= 1
    with pytest.raises(cram.BadCram, match="CRC32"):
        cram.container_header(bytes(damaged), 0)


def test_the_head_and_references_are_read_from_the_file(written: tuple[Path, cram.CramFile]
                                                        ) -> None:
    path, found = written
    assert found.version == (3, 0)
    assert found.reference_names() == list(CONTIGS)
    assert [ref.length for ref in found.references] == list(CONTIGS.values())
    assert path.read_bytes().startswith(found.head)
    assert found.eof_start == path.stat().st_size - len(cram.EOF_CONTAINER)


def test_the_whole_file_cut_into_containers_holds_every_read(
    tmp_path: Path, written: tuple[Path, cram.CramFile]
) -> None:
    path, found = written
    every = [entry.container_offset for entry in found.entries]
    assert found.container_ranges(every) == [(len(found.head), found.eof_start)]
    (tmp_path / "all.cram").write_bytes(sliced(path, found, every))
    assert reads_of(tmp_path / "all.cram") == reads_of(path)


@pytest.mark.parametrize("seed", range(8))
def test_a_region_of_whole_containers_holds_every_read_pysam_finds_there(
    tmp_path: Path, written: tuple[Path, cram.CramFile], seed: int
) -> None:
    path, found = written
    rng = random.Random(seed)
    reference = rng.randrange(len(CONTIGS))
    name, length = list(CONTIGS.items())[reference]
    start = rng.randrange(length)
    end = min(length, start + rng.choice([1, 1000, 50_000, 400_000]))
    offsets = found.containers(reference, start, end)
    out = tmp_path / "slice.cram"
    out.write_bytes(sliced(path, found, offsets))

    got = reads_of(out)
    wanted = reads_of(path, (name, start, end))
    assert set(wanted) <= set(got)
    assert set(got) <= set(reads_of(path))
    assert len(got) <= PER_CONTAINER * (len(wanted) // PER_CONTAINER + 2)  # the superset


def test_unplaced_reads_are_the_unmapped_containers(
    tmp_path: Path, written: tuple[Path, cram.CramFile]
) -> None:
    path, found = written
    out = tmp_path / "unplaced.cram"
    out.write_bytes(sliced(path, found, found.containers(cram.UNMAPPED, 0, None)))
    assert {ref for _, ref, _ in reads_of(out)} == {-1}


def test_head_and_eof_alone_are_a_valid_file_with_no_reads(
    tmp_path: Path, written: tuple[Path, cram.CramFile]
) -> None:
    _, found = written
    out = tmp_path / "header.cram"
    out.write_bytes(found.head + cram.EOF_CONTAINER)
    with pysam.AlignmentFile(str(out)) as header_only:
        assert list(header_only.references) == list(CONTIGS)
        assert list(header_only.fetch(until_eof=True)) == []


def test_cram_3_1_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "new.cram"
    found = load(path, write_cram(path, 2, reads=400, version="3.1"))
    assert found.version == (3, 1) and len(found.entries) >= 2


def test_the_crai_of_another_cram_is_refused(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours.cram", tmp_path / "theirs.cram"
    write_cram(ours, 3)
    other_index = write_cram(theirs, 4, reads=5000)
    with pytest.raises(IndexMismatch):
        load(ours, other_index)


def test_a_truncated_cram_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cut.cram"
    index = write_cram(path, 5)
    path.write_bytes(path.read_bytes()[:-len(cram.EOF_CONTAINER)])
    with pytest.raises(IndexMismatch, match="end-of-file container"):
        load(path, index)


@pytest.mark.parametrize(("line", "reason"), [
    ("0\t1\t10\t99999999\t0\t10", "outside the file's containers"),
    ("7\t1\t10\t{first}\t0\t10", "reference 7"),
    ("0\t1\t10\t{first}\t12345\t10", "no slice at 12345"),
    ("1\t1\t10\t{first}\t{slice}\t10", "the index says 1"),
    ("0\t1\tten\t{first}\t0\t10", "not six integers"),
])
def test_a_crai_that_points_where_the_file_has_no_such_container_is_refused(
    tmp_path: Path, written: tuple[Path, cram.CramFile], line: str, reason: str
) -> None:
    path, found = written
    first = found.entries[0]
    forged = tmp_path / "forged.crai"
    text = line.format(first=first.container_offset, slice=first.slice_offset)
    forged.write_bytes(gzip.compress(text.encode() + b"\n"))
    with pytest.raises(IndexMismatch, match=reason):
        load(path, forged)


def test_a_crai_that_is_not_gzip_is_refused(tmp_path: Path,
                                             written: tuple[Path, cram.CramFile]) -> None:
    path, _ = written
    forged = tmp_path / "plain.crai"
    forged.write_bytes(zlib.compress(b"0\t1\t1\t0\t0\t0\n"))
    with pytest.raises(IndexMismatch, match="gzip"):
        load(path, forged)


def test_a_bgzf_index_given_for_a_cram_is_refused(written: tuple[Path, cram.CramFile]) -> None:
    path, _ = written
    data = path.read_bytes()
    with pytest.raises(IndexMismatch, match="cannot index a CRAM"):
        load_indexed(lambda start, length: data[start:start + length], len(data), b"",
                     IndexFormat.BAI)


def test_a_bam_given_as_a_cram_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IndexMismatch, match="CRAM file definition"):
        load_cram(lambda start, length: b"BAM\1"[start:start + length], 4,
                  gzip.compress(b""))
