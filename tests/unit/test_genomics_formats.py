"""BGZF, the three index formats and the check that an index belongs to its file, against
files htslib (pysam) writes and reads: slices cut by our code must hold exactly what pysam's
own region query finds."""

from __future__ import annotations

import gzip
import random
from collections.abc import Callable
from pathlib import Path

import pysam
import pytest

from datasets.genomics import bgzf
from datasets.genomics.checks import Indexed, IndexMismatch, load_indexed
from datasets.genomics.indexes import IndexFormat, bin_interval, region_bins
from datasets.genomics.slices import Inline, body_pieces, eof_piece, header_piece

pysam.set_verbosity(0)
CONTIGS = {"chr1": 2_000_000, "chr2": 1_500_000}


def vcf_text(seed: int, per_contig: int = 1500) -> bytes:
    rng = random.Random(seed)
    lines = ["##fileformat=VCFv4.2",
             *(f"##contig=<ID={name},length={length}>" for name, length in CONTIGS.items()),
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO",
                        "FORMAT", *(f"S{i}" for i in range(40))])]
    for name, length in CONTIGS.items():
        for position in sorted(rng.sample(range(1, length), per_contig)):
            ref = rng.choice(["A", "AC", "ACGT"])  # records of several lengths
            calls = [rng.choice(["0/0", "0/1", "1/1"]) for _ in range(40)]
            lines.append("\t".join([name, str(position), ".", ref, "G", ".", "PASS", ".", "GT",
                                    *calls]))
    return ("\n".join(lines) + "\n").encode()


def write_vcf(path: Path, seed: int, *, csi: bool = False) -> Path:
    path.write_bytes(bgzf.compress(vcf_text(seed)) + bgzf.EOF_BLOCK)
    pysam.tabix_index(str(path), preset="vcf", force=True, keep_original=True, csi=csi)
    return Path(f"{path}.{'csi' if csi else 'tbi'}")


def write_bam(path: Path, seed: int, *, csi: bool = False) -> Path:
    rng = random.Random(seed)
    header = {"HD": {"VN": "1.6", "SO": "coordinate"},
              "SQ": [{"SN": name, "LN": length} for name, length in CONTIGS.items()]}
    placed = sorted((ref, rng.randrange(length - 100)) for ref, length in
                    enumerate(CONTIGS.values()) for _ in range(3000))
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for number, (ref, position) in enumerate(placed):
            read = pysam.AlignedSegment(out.header)
            read.query_name, read.reference_id, read.reference_start = f"r{number}", ref, position
            read.cigarstring = "50M" if number % 3 else "20M300N30M"
            read.query_sequence = "".join(rng.choice("ACGT") for _ in range(50))
            read.query_qualities = pysam.qualitystring_to_array("F" * 50)
            read.mapping_quality = 60
            out.write(read)
    if csi:
        pysam.index("-c", str(path))
        return Path(f"{path}.csi")
    pysam.index(str(path))
    return Path(f"{path}.bai")


def reader(path: Path) -> Callable[[int, int], bytes]:
    data = path.read_bytes()
    return lambda start, length: data[start:start + length]


def load(path: Path, index: Path, index_format: IndexFormat) -> Indexed:
    return load_indexed(reader(path), path.stat().st_size, index.read_bytes(), index_format)


def sliced(path: Path, indexed: Indexed, reference: int, start: int, end: int) -> bytes:
    data = path.read_bytes()
    pieces = [header_piece(indexed.header),
              *body_pieces(indexed.index.chunks(reference, start, end), indexed.header,
                           reader(path)), eof_piece()]
    return b"".join(p.data if isinstance(p, Inline) else data[p.start:p.end] for p in pieces)


def test_bgzf_round_trips_and_ends_with_the_eof_block() -> None:
    data = bytes(random.Random(1).randrange(256) for _ in range(200_000))
    packed = bgzf.compress(data) + bgzf.EOF_BLOCK
    assert gzip.decompress(packed) == data  # any gzip reader reads BGZF
    assert b"".join(block for _, block in bgzf.blocks(packed)) == data
    with pytest.raises(bgzf.BgzfError):
        bgzf.block_size(gzip.compress(b"plain gzip"))


def test_bins_cover_their_interval_and_a_region_meets_the_bins_over_it() -> None:
    assert bin_interval(0, 14, 5) == (0, 1 << 29)
    assert bin_interval(4681, 14, 5) == (0, 1 << 14)
    for bin_ in region_bins(100_000, 200_000, 14, 5):
        low, high = bin_interval(bin_, 14, 5)
        assert low < 200_000 and high > 100_000


@pytest.mark.parametrize(("kind", "csi"), [("vcf", False), ("vcf", True), ("bam", False),
                                          ("bam", True)])
def test_slices_hold_exactly_what_pysam_finds_in_the_region(tmp_path: Path, kind: str,
                                                            csi: bool) -> None:
    path = tmp_path / ("data.vcf.gz" if kind == "vcf" else "data.bam")
    index = write_vcf(path, 7, csi=csi) if kind == "vcf" else write_bam(path, 7, csi=csi)
    index_format = IndexFormat.CSI if csi else (IndexFormat.TBI if kind == "vcf"
                                                else IndexFormat.BAI)
    indexed = load(path, index, index_format)
    names = indexed.reference_names()
    rng = random.Random(11)
    out = tmp_path / ("slice.vcf.gz" if kind == "vcf" else "slice.bam")
    for _ in range(60):
        reference = rng.randrange(len(names))
        start = rng.randrange(CONTIGS[names[reference]])
        end = start + rng.randrange(1, 300_000)
        data = sliced(path, indexed, reference, start, end)
        out.write_bytes(data)
        if kind == "vcf":
            with pysam.VariantFile(str(path)) as whole, pysam.VariantFile(str(out)) as part:
                want = [str(r) for r in whole.fetch(names[reference], start, end)]
                got = [str(r) for r in part]
        else:
            with pysam.AlignmentFile(str(path)) as whole, \
                    pysam.AlignmentFile(str(out), check_sq=False) as part:
                want = [r.to_string() for r in whole.fetch(names[reference], start, end)]
                got = [r.to_string() for r in part.fetch(until_eof=True)]
        kept = set(want)
        assert [line for line in got if line in kept] == want
        # The superset is what htslib itself reads for the region: bins whose chunks span
        # under 64 KiB were merged into their parent when the index was built, so beyond
        # the region's own records it is at most a few blocks' worth of bytes.
        header = len(header_piece(indexed.header).data)
        assert len(data) - header <= 3 * bgzf.MAX_BLOCK + sum(map(len, want))


def test_an_index_of_another_file_is_refused(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours.vcf.gz", tmp_path / "theirs.vcf.gz"
    write_vcf(ours, 1)
    their_index = write_vcf(theirs, 2)  # same contigs, other records and offsets
    with pytest.raises(IndexMismatch, match=r"record at offset|outside"):
        load(ours, their_index, IndexFormat.TBI)
    bam = tmp_path / "reads.bam"
    other_bam = tmp_path / "other.bam"
    write_bam(bam, 1)
    with pytest.raises(IndexMismatch):
        load(bam, write_bam(other_bam, 2), IndexFormat.BAI)


def test_wrong_formats_and_damaged_files_are_refused_with_a_reason(tmp_path: Path) -> None:
    vcf, bam = tmp_path / "a.vcf.gz", tmp_path / "a.bam"
    tbi, bai = write_vcf(vcf, 1), write_bam(bam, 1)
    with pytest.raises(IndexMismatch, match="cannot index a BAM"):
        load(bam, tbi, IndexFormat.TBI)
    with pytest.raises(IndexMismatch, match="does not start with"):
        load(vcf, tbi, IndexFormat.BAI)
    truncated = tmp_path / "cut.vcf.gz"
    truncated.write_bytes(vcf.read_bytes()[:-28])
    with pytest.raises(IndexMismatch, match="end-of-file block"):
        load(truncated, tbi, IndexFormat.TBI)
    plain = tmp_path / "plain.vcf.gz"
    plain.write_bytes(gzip.compress(vcf_text(1)))
    with pytest.raises(IndexMismatch, match="not a BGZF"):
        load(plain, tbi, IndexFormat.TBI)
    assert load(bam, bai, IndexFormat.BAI).header.references[0].name == "chr1"
