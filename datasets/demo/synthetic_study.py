"""A small synthetic GTEx-like study, so the catalogue can list, sign and serve real-looking files.

Every donor, genotype, read and expression value is invented; nothing derives from real
people. The same seed gives the same bytes on every run: one ``random.Random(seed)``, only
arithmetic on its draws (no exp/log, whose last bit may differ between C maths libraries),
everything sorted, fixed float formats, and gzip headers without a timestamp or file name.
The genotype VCF is BGZF (bgzip's format) with a tabix index, and the RNA-seq alignments are
BAMs with their BAI, so both can be sliced by region (htsget).
"""

from __future__ import annotations

import gzip
import io
import random
import statistics
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pysam

from datasets.demo.alignments import TISSUES as ALIGNED_TISSUES
from datasets.demo.alignments import write_alignments, write_cram
from datasets.demo.simulation import (
    CONTIG_LENGTHS,
    GENES,
    SITES,
    TISSUES,
    Effect,
    Gene,
    SimulatedStudy,
    Variant,
    simulate_study,
)
from datasets.genomics import bgzf

STUDY_ACCESSION = "phs000424"
STUDY_TITLE = "Genotype-Tissue Expression (synthetic demo)"
CONSENT_GROUP_ACCESSION = "phs000424.v10.p2.c1"


@dataclass(frozen=True)
class DemoFile:
    """One written file, described well enough for a catalogue page."""

    relative_path: str
    kind: str
    tier: str
    description: str
    index_path: str | None = None  # the tabix or BAI index registered with it


VCF_PATH = "controlled/GTEx_demo.genotypes.vcf.gz"


def alignment_path(tissue: str) -> str:
    return f"controlled/GTEx_demo.rnaseq.{tissue.replace(' ', '_')}.bam"


_AGE_BRACKETS = ("20-29", "30-39", "40-49", "50-59", "60-69", "70-79")
_HARDY_SCALE = ("0", "1", "2", "3", "4", "")
_GENOTYPES: dict[int | None, str] = {None: "./.", 0: "0/0", 1: "0/1", 2: "1/1"}
_VCF_COLUMNS = ("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT")
_EQTL_HEADER = (
    "gene_id\tgene_name\tvariant_id\ttissue\ttss_distance\tmaf\tpval_nominal\tslope\tslope_se\tqval"
)
# The catalogue's order: path (its folder is the tier), kind, and a sentence for the page.
_LAYOUT: tuple[tuple[str, str, str], ...] = (
    ("controlled/GTEx_demo.genotypes.vcf.gz", "genotype",
     "Genotype calls at {variants:,} SNPs near the demo genes for all {donors} donors."),
    ("controlled/GTEx_demo.gene_tpm.gct.gz", "expression",
     "Gene TPM for {genes} genes in {samples} RNA-seq samples from {tissues} tissues."),
    ("controlled/GTEx_demo.transcript_tpm.gct.gz", "expression",
     "Transcript TPM for {transcripts} transcripts in the same {samples} RNA-seq samples."),
    ("controlled/GTEx_demo.SampleAttributesDS.txt", "clinical",
     "Tissue, RNA integrity, ischaemic time and extraction batch for each of the samples."),
    ("controlled/GTEx_demo.SubjectPhenotypesDS.txt", "clinical",
     "Sex, ten-year age bracket and Hardy death classification for each of the donors."),
    ("open/GTEx_demo.eqtl_signif_pairs.txt.gz", "summary",
     "{pairs:,} significant cis-eQTL variant-gene pairs across {tissues} tissues."),
    ("open/GTEx_demo.gene_median_tpm.gct.gz", "summary",
     "Median gene TPM in each of the {tissues} tissues, from the controlled gene TPM matrix."),
    ("open/GTEx_demo.transcript_median_tpm.gct.gz", "summary",
     "Median transcript TPM in each tissue, from the controlled transcript TPM matrix."),
)  # fmt: skip


def _tpm(milli: int) -> str:
    return f"{milli // 1000}.{milli % 1000:03d}"


def _median_tpm(values: Sequence[int]) -> str:
    # A median of integers is whole or half, so four decimals print it exactly.
    return f"{statistics.median(values) / 1000:.4f}"


def _gct(header: Sequence[str], rows: Sequence[Sequence[str]]) -> Iterator[str]:
    """GCT 1.2: version, then data rows by data columns (the two id columns not counted)."""
    yield "#1.2"
    yield f"{len(rows)}\t{len(header) - 2}"
    yield "\t".join(header)
    for row in rows:
        yield "\t".join(row)


def _matrix(study: SimulatedStudy, level: str
            ) -> tuple[list[str], list[tuple[str, str, list[int]]]]:
    """The two id columns GTEx uses for a gene or transcript matrix, and its rows."""
    if level == "gene":
        rows = [(g.gene_id, g.symbol, study.gene_tpm[g.gene_id]) for g in GENES]
        return ["Name", "Description"], rows
    rows = [(t, g.gene_id, study.transcript_tpm[t]) for g in GENES for t in g.transcript_ids]
    return ["transcript_id", "gene_id"], rows


def _tpm_lines(study: SimulatedStudy, level: str) -> Iterator[str]:
    ids, rows = _matrix(study, level)
    header = [*ids, *(sample.sample_id for sample in study.samples)]
    return _gct(header, [[first, second, *map(_tpm, values)] for first, second, values in rows])


def _median_tpm_lines(study: SimulatedStudy, level: str) -> Iterator[str]:
    """Medians from the very rows the controlled matrix prints, so the two files always agree."""
    ids, rows = _matrix(study, level)
    medians = [
        [first, second, *(_median_tpm([values[i] for i in study.columns[t]]) for t in TISSUES)]
        for first, second, values in rows
    ]
    return _gct([*ids, *TISSUES], medians)


def _vcf_lines(study: SimulatedStudy) -> Iterator[str]:
    yield "##fileformat=VCFv4.2"
    yield "##source=custodian synthetic GTEx demo"
    yield "##reference=GRCh38"
    for chromosome, length in CONTIG_LENGTHS.items():
        yield f"##contig=<ID={chromosome},length={length},assembly=GRCh38>"
    yield '##INFO=<ID=AF,Number=A,Type=Float,Description="Alternate allele frequency in donors">'
    yield '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">'
    yield "\t".join([*_VCF_COLUMNS, *study.donors])
    order = {chromosome: rank for rank, chromosome in enumerate(CONTIG_LENGTHS)}
    variants = [v for gene_variants in study.variants_by_gene.values() for v in gene_variants]
    for v in sorted(variants, key=lambda v: (order[v.chromosome], v.position)):
        fields = [v.chromosome, str(v.position), v.variant_id, v.ref, v.alt, ".", "PASS"]
        fields += [f"AF={v.alt_frequency:.4f}", "GT", *(_GENOTYPES[d] for d in v.dosages)]
        yield "\t".join(fields)


def _sample_attribute_lines(rng: random.Random, study: SimulatedStudy) -> Iterator[str]:
    yield "\t".join(["SAMPID", "SMTS", "SMTSD", "SMRIN", "SMTSISCH", "SMNABTCHT"])
    for sample in study.samples:
        site = SITES[sample.tissue]
        rin = f"{5.5 + 4.3 * rng.random():.1f}"
        minutes = str(rng.randint(*site.ischaemic_minutes))
        yield "\t".join((sample.sample_id, site.smts, sample.tissue, rin, minutes, site.batch_type))


def _subject_phenotype_lines(rng: random.Random, study: SimulatedStudy) -> Iterator[str]:
    """Ages only as ten-year brackets, the way GTEx releases them, never an exact age."""
    yield "\t".join(["SUBJID", "SEX", "AGE", "DTHHRDY"])
    for donor in study.donors:
        sex = "1" if rng.random() < 0.67 else "2"
        age = rng.choices(_AGE_BRACKETS, weights=(1, 1, 2, 4, 4, 1))[0]
        hardy = rng.choices(_HARDY_SCALE, weights=(4, 1, 3, 1, 1, 1))[0]
        yield "\t".join([donor, sex, age, hardy])


def _p_value(rng: random.Random, z: float, floor: int) -> tuple[str, int]:
    """Builds '1.234e-12' from digits, with -log10 p ~ z^2 / (2 ln 10) as for a normal test."""
    exponent = min(40, max(floor, int(z * z / 4.605)))
    return f"{1.0 + 8.999 * rng.random():.3f}e-{exponent:02d}", exponent


def _eqtl_row(
    rng: random.Random, gene: Gene, tissue: str, variant: Variant, effect: Effect
) -> str:
    """The causal variant gets the full slope; its neighbours a weaker, LD-like echo of it."""
    lead = variant is effect.variant
    slope = effect.beta * (1.5 + rng.random()) * (1.0 if lead else 0.3 + 0.5 * rng.random())
    slope_se = 0.05 + 0.1 * rng.random()
    p_value, exponent = _p_value(rng, slope / slope_se, 5 if lead else 4)
    q_value, _ = _p_value(rng, 0.0, max(3, exponent - 1 - rng.randrange(3)))  # q above p
    distance = str(variant.position - gene.tss)
    where = (gene.gene_id, gene.symbol, variant.variant_id, tissue, distance)
    stats = (f"{variant.maf:.6f}", p_value, f"{slope:.6f}", f"{slope_se:.6f}", q_value)
    return "\t".join((*where, *stats))


def _eqtl_lines(rng: random.Random, study: SimulatedStudy) -> Iterator[str]:
    """Significant pairs for each planted eQTL in each tissue where its gene is expressed."""
    yield _EQTL_HEADER
    for tissue in TISSUES:
        columns = study.columns[tissue]
        for gene in GENES:
            effect = study.effects.get(gene.gene_id)
            tpm = study.gene_tpm[gene.gene_id]
            # GTEx only tests genes above 0.1 TPM in the tissue.
            if effect is None or statistics.median(tpm[i] for i in columns) < 100:
                continue
            for variant in study.variants_by_gene[gene.gene_id]:
                neighbour = variant is not effect.variant
                if neighbour and (variant.maf < 0.01 or rng.random() >= 0.35):
                    continue
                yield _eqtl_row(rng, gene, tissue, variant, effect)


def _write(directory: Path, relative_path: str, lines: Iterable[str]) -> None:
    """Writes text with a final newline; a .gz name gets a gzip stream with no time or name,
    the VCF a BGZF stream (gzip members that carry their size), which tabix can index."""
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    if relative_path == VCF_PATH:
        data = bgzf.compress(data) + bgzf.EOF_BLOCK
    elif relative_path.endswith(".gz"):
        buffer = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as stream:
            stream.write(data)
        data = buffer.getvalue()
    path = directory / relative_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_demo_study(directory: Path, seed: int = 424) -> list[DemoFile]:
    """Writes every file under `directory` (creating subfolders) and returns them in a stable
    order: the catalogue lists them as returned, so the order is part of the interface."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    study = simulate_study(rng)
    # Draw everything else from rng now, in a fixed order, before any file is written.
    attributes = list(_sample_attribute_lines(rng, study))
    phenotypes = list(_subject_phenotype_lines(rng, study))
    eqtls = list(_eqtl_lines(rng, study))
    contents: dict[str, Iterable[str]] = {
        "controlled/GTEx_demo.genotypes.vcf.gz": _vcf_lines(study),
        "controlled/GTEx_demo.gene_tpm.gct.gz": _tpm_lines(study, "gene"),
        "controlled/GTEx_demo.transcript_tpm.gct.gz": _tpm_lines(study, "transcript"),
        "controlled/GTEx_demo.SampleAttributesDS.txt": attributes,
        "controlled/GTEx_demo.SubjectPhenotypesDS.txt": phenotypes,
        "open/GTEx_demo.eqtl_signif_pairs.txt.gz": eqtls,
        "open/GTEx_demo.gene_median_tpm.gct.gz": _median_tpm_lines(study, "gene"),
        "open/GTEx_demo.transcript_median_tpm.gct.gz": _median_tpm_lines(study, "transcript"),
    }
    counts = {
        "donors": len(study.donors), "samples": len(study.samples), "genes": len(GENES),
        "variants": sum(len(v) for v in study.variants_by_gene.values()), "tissues": len(TISSUES),
        "transcripts": sum(len(g.transcript_ids) for g in GENES), "pairs": len(eqtls) - 1,
    }  # fmt: skip
    files = []
    for relative_path, kind, template in _LAYOUT:
        _write(directory, relative_path, contents[relative_path])
        tier = relative_path.split("/", 1)[0]
        index = None
        if relative_path == VCF_PATH:
            pysam.tabix_index(str(directory / VCF_PATH), preset="vcf", force=True,
                              keep_original=True)
            index = VCF_PATH + ".tbi"
        files.append(DemoFile(relative_path, kind, tier, template.format(**counts), index))
    return files + _alignments(directory, study, seed)


CRAM_TISSUE = "Liver"


def _alignments(directory: Path, study: SimulatedStudy, seed: int) -> list[DemoFile]:
    """Listed last, so the files catalogued before them keep their ids."""
    found = []
    for tissue in ALIGNED_TISSUES:
        relative_path = alignment_path(tissue)
        write_alignments(directory / relative_path, study, tissue, seed)
        found.append(DemoFile(
            relative_path, "alignment", "controlled",
            f"RNA-seq reads of one {tissue} sample over the {len(GENES)} demo genes, "
            "coordinate-sorted, with its BAI index.", relative_path + ".bai"))
    cram_path = alignment_path(CRAM_TISSUE).removesuffix(".bam") + ".cram"
    write_cram(directory / alignment_path(CRAM_TISSUE), directory / cram_path)
    found.append(DemoFile(
        cram_path, "alignment", "controlled",
        f"The {CRAM_TISSUE} sample's reads as CRAM 3.0 (bases stored, no reference needed), "
        "with its CRAI index.", cram_path + ".crai"))
    return found
