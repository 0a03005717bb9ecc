"""Small synthetic RNA-seq alignments (BAM with BAI) for a few tissues, so htsget has reads
to slice: one sample per tissue, reads over the demo genes in proportion to the sample's
expression of them, some spliced, a few unplaced unmapped reads at the end. One of them is
also written as CRAM with its CRAI, the format archives keep alignments in.

Bases and qualities are drawn from their own ``random.Random`` (the study's draws stay as
they were), integers only, so one seed writes the same BAM wherever pysam's htslib and its
zlib are the same.
"""

from __future__ import annotations

import random
from math import isqrt
from pathlib import Path

import pysam

from datasets.demo.simulation import CONTIG_LENGTHS, GENES, SimulatedStudy

# Tissues whose marker genes (ALB, SFTPC, HBB) make their slices easy to recognise.
TISSUES = ("Liver", "Lung", "Whole Blood")
READ_LENGTH = 76
MAX_READS_PER_GENE = 60
GENE_SPAN = 20_000  # reads fall in the first 20 kb from the TSS
UNMAPPED_READS = 8
READS_PER_CONTAINER = 100  # few, so a region's CRAM slice is a few containers, not the file
CRAM_FILE_ID = b"custodian-demo".ljust(20, b"\0")
_BASES = "ACGT"
_QUALITIES = "FFFF:,F"


def sample_of(study: SimulatedStudy, tissue: str) -> str:
    return study.samples[study.columns[tissue][0]].sample_id


def write_alignments(path: Path, study: SimulatedStudy, tissue: str, seed: int) -> None:
    """Writes ``path`` (BAM, coordinate-sorted) and ``path.bai``."""
    rng = random.Random(f"{seed}-alignments-{tissue}")  # noqa: S311 - synthetic data
    column = study.columns[tissue][0]
    sample = study.samples[column]
    header = {
        "HD": {"VN": "1.6", "SO": "coordinate"},
        "SQ": [{"SN": name, "LN": length} for name, length in CONTIG_LENGTHS.items()],
        "RG": [{"ID": sample.sample_id, "SM": study.donors[sample.donor], "PL": "ILLUMINA",
                "DS": f"synthetic {tissue} RNA-seq"}],
        "PG": [{"ID": "custodian-demo", "PN": "custodian synthetic GTEx demo"}],
    }
    order = {name: rank for rank, name in enumerate(CONTIG_LENGTHS)}
    placed = []
    for gene in GENES:
        count = min(MAX_READS_PER_GENE, isqrt(study.gene_tpm[gene.gene_id][column] // 100))
        for _ in range(count):
            placed.append((order[gene.chromosome], gene.tss + rng.randrange(GENE_SPAN),
                           _cigar(rng)))
    placed.sort()
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for number, (reference, position, cigar) in enumerate(placed):
            out.write(_read(out.header, rng, f"{sample.sample_id}:{number}", reference,
                            position, cigar, sample.sample_id))
        for number in range(UNMAPPED_READS):
            out.write(_read(out.header, rng, f"{sample.sample_id}:u{number}", -1, -1, None,
                            sample.sample_id))
    pysam.index(str(path))


def write_cram(bam: Path, path: Path) -> None:
    """Writes ``path`` (CRAM 3.0, which every CRAM reader takes) and ``path.crai``: the BAM's
    reads with their bases in the file, so reading it needs no reference (the demo ships no
    FASTA)."""
    options = ["no_ref=1", "version=3.0", f"seqs_per_slice={READS_PER_CONTAINER}"]
    with pysam.AlignmentFile(str(bam)) as source, pysam.AlignmentFile(
            str(path), "wc", template=source, format_options=options) as out:
        for read in source.fetch(until_eof=True):
            out.write(read)
    # htslib writes the path it was given as the 20-byte file id: a fixed one keeps the
    # bytes the same wherever the demo is written.
    with path.open("r+b") as written:
        written.seek(6)
        written.write(CRAM_FILE_ID)
    pysam.index(str(path))


def _cigar(rng: random.Random) -> str:
    """One read in four spans an intron, as RNA-seq reads of spliced transcripts do."""
    if rng.random() < 0.25:
        first = rng.randrange(10, READ_LENGTH - 10)
        return f"{first}M{rng.randrange(100, 5000)}N{READ_LENGTH - first}M"
    return f"{READ_LENGTH}M"


def _read(header: pysam.AlignmentHeader, rng: random.Random, name: str, reference: int,
          position: int, cigar: str | None, group: str) -> pysam.AlignedSegment:
    read = pysam.AlignedSegment(header)
    read.query_name = name
    read.query_sequence = "".join(_BASES[rng.randrange(4)] for _ in range(READ_LENGTH))
    read.query_qualities = pysam.qualitystring_to_array(
        "".join(rng.choice(_QUALITIES) for _ in range(READ_LENGTH)))
    if cigar is None:
        read.flag = 4
        read.reference_id = -1
        read.reference_start = -1
        read.mapping_quality = 0
    else:
        read.flag = 16 if rng.random() < 0.5 else 0
        read.reference_id = reference
        read.reference_start = position
        read.mapping_quality = 255  # STAR's "uniquely mapped"
        read.cigarstring = cigar
    read.set_tags([("RG", group), ("NH", 1)])
    return read
