"""A small synthetic GTEx-like study, so the catalogue can list, sign and serve real-looking files.

Every donor, genotype and expression value is invented; nothing derives from real people.
The same seed gives the same bytes on every run: one ``random.Random(seed)``, only arithmetic
on its draws (no exp/log, whose last bit may differ between C maths libraries), everything
sorted, fixed float formats, and gzip headers without a timestamp or file name.
"""

from __future__ import annotations

import gzip
import io
import random
import statistics
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

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


class Gene(NamedTuple):
    """A gene as the demo files name it: versioned Ensembl id, symbol and GRCh38 TSS.

    Transcript ids are synthetic (ENST99...), even for the dozen real genes.
    """

    gene_id: str
    symbol: str
    chromosome: str
    tss: int
    transcript_ids: tuple[str, ...]


class _Site(NamedTuple):
    """What GTEx records about a tissue besides its SMTSD name, plus the gene that marks it."""

    smts: str
    aliquot: str
    batch_type: str
    ischaemic_minutes: tuple[int, int]
    marker: str


# Brain aliquot codes carry a region (R10a); blood is drawn first, so it waits least.
_PLATE = "RNA Extraction from Paxgene-derived Lysate Plate Based"
_BLOOD = "RNA isolation_PAXgene Blood RNA (Manual)"
_SITES: dict[str, _Site] = {
    "Adipose - Subcutaneous": _Site("Adipose Tissue", "0226", _PLATE, (300, 1100), "ADIPOQ"),
    "Brain - Cortex": _Site("Brain", "0011-R10a", _PLATE, (600, 1400), "GFAP"),
    "Liver": _Site("Liver", "0526", _PLATE, (200, 900), "ALB"),
    "Lung": _Site("Lung", "0726", _PLATE, (150, 1000), "SFTPC"),
    "Muscle - Skeletal": _Site("Muscle", "0426", _PLATE, (100, 900), "ACTA1"),
    "Skin - Sun Exposed (Lower leg)": _Site("Skin", "2126", _PLATE, (300, 1200), "KRT10"),
    "Thyroid": _Site("Thyroid", "0826", _PLATE, (250, 1000), "TG"),
    "Whole Blood": _Site("Blood", "0005", _BLOOD, (1, 60), "HBB"),
}
TISSUES: tuple[str, ...] = tuple(sorted(_SITES))

# GRCh38 lengths of the chromosomes the demo genes sit on, in karyotype order.
_CONTIG_LENGTHS: dict[str, int] = {
    "chr1": 248956422, "chr3": 198295559, "chr4": 190214555, "chr7": 159345973,
    "chr8": 145138636, "chr11": 135086622, "chr17": 83257441, "chr19": 58617616,
}  # fmt: skip
_KNOWN_GENES: tuple[tuple[str, str, str, int], ...] = (
    ("ENSG00000141510.16", "TP53", "chr17", 7687538),
    ("ENSG00000012048.20", "BRCA1", "chr17", 43125483),
    ("ENSG00000130203.9", "APOE", "chr19", 44905796),
    ("ENSG00000001626.14", "CFTR", "chr7", 117480025),
    ("ENSG00000163631.16", "ALB", "chr4", 73404256),
    ("ENSG00000244734.3", "HBB", "chr11", 5229395),
    ("ENSG00000143632.14", "ACTA1", "chr1", 229434098),
    ("ENSG00000042832.11", "TG", "chr8", 132866958),
    ("ENSG00000168484.12", "SFTPC", "chr8", 22156913),
    ("ENSG00000131095.11", "GFAP", "chr17", 44916937),
    ("ENSG00000186395.7", "KRT10", "chr17", 40822614),
    ("ENSG00000181092.9", "ADIPOQ", "chr3", 186842710),
)
# Real genes with real tissue specificity, so the median-TPM page shows familiar patterns.
_MARKERS: dict[str, str] = {site.marker: tissue for tissue, site in _SITES.items()}
_GENE_COUNT = 200
_GENE_TABLE_SEED = 26  # fixed, not the study seed: gene ids must not move between demo runs
_SYNTHETIC_ID_BASE = 99_000_000_000
_CIS_WINDOW = 1_000_000
_DONOR_COUNT = 60
_VARIANTS_PER_GENE = 10
_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_AGE_BRACKETS = ("20-29", "30-39", "40-49", "50-59", "60-69", "70-79")
_HARDY_SCALE = ("0", "1", "2", "3", "4", "")
_GENOTYPES: dict[int | None, str] = {None: "./.", 0: "0/0", 1: "0/1", 2: "1/1"}
_VCF_COLUMNS = ("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT")
_EQTL_HEADER = (
    "gene_id\tgene_name\tvariant_id\ttissue\ttss_distance\tmaf\tpval_nominal\tslope\tslope_se\tqval"
)
# TPM ranges a gene's base level is drawn from; repeats make the middle ranges commoner.
_LEVEL_BANDS = ((0.02, 0.5), (1.0, 20.0), (1.0, 20.0), (20.0, 150.0), (20.0, 150.0), (150.0, 900.0))
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


def _build_genes() -> tuple[Gene, ...]:
    """Fixed for every seed, so gene pages and links stay put whichever study was generated."""
    rng = random.Random(_GENE_TABLE_SEED)  # noqa: S311 - synthetic data, not secrets
    rows = list(_KNOWN_GENES)
    chromosomes = list(_CONTIG_LENGTHS)
    for number in range(len(rows) + 1, _GENE_COUNT + 1):
        chromosome = rng.choice(chromosomes)
        tss = rng.randrange(2 * _CIS_WINDOW, _CONTIG_LENGTHS[chromosome] - 2 * _CIS_WINDOW)
        gene_id = f"ENSG{_SYNTHETIC_ID_BASE + number}.{rng.randint(1, 20)}"
        rows.append((gene_id, f"GENE{number:04d}", chromosome, tss))
    genes = []
    for number, (gene_id, symbol, chromosome, tss) in enumerate(rows, start=1):
        count = rng.randint(1, 4)
        base = _SYNTHETIC_ID_BASE + number * 10
        transcripts = tuple(f"ENST{base + k}.{rng.randint(1, 9)}" for k in range(count))
        genes.append(Gene(gene_id, symbol, chromosome, tss, transcripts))
    return tuple(genes)


GENES: tuple[Gene, ...] = _build_genes()


@dataclass(frozen=True)
class _Sample:
    sample_id: str
    donor: int
    tissue: str


@dataclass(frozen=True)
class _Variant:
    """A biallelic SNP with every donor's genotype, from which AF and MAF are counted."""

    chromosome: str
    position: int
    ref: str
    alt: str
    dosages: tuple[int | None, ...]  # alt-allele count per donor; None where the call failed

    @property
    def variant_id(self) -> str:
        return f"{self.chromosome}_{self.position}_{self.ref}_{self.alt}_b38"  # GTEx v8 style

    @property
    def alt_frequency(self) -> float:
        called = [d for d in self.dosages if d is not None]
        return sum(called) / (2 * len(called)) if called else 0.0

    @property
    def maf(self) -> float:
        return min(self.alt_frequency, 1.0 - self.alt_frequency)


@dataclass(frozen=True)
class _Effect:
    """The cis-eQTL planted for a gene: its causal variant and the per-allele change in level."""

    variant: _Variant
    beta: float


@dataclass(frozen=True)
class _Study:
    """Everything simulated from the seed, before any of it is formatted into files."""

    donors: tuple[str, ...]
    samples: tuple[_Sample, ...]
    variants_by_gene: dict[str, tuple[_Variant, ...]]
    effects: dict[str, _Effect]
    transcript_tpm: dict[str, list[int]]  # milli-TPM per sample, so sums and medians are exact
    gene_tpm: dict[str, list[int]]
    columns: dict[str, list[int]]  # positions of each tissue's samples in the matrices


def _random_id(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(_ID_ALPHABET) for _ in range(length))


def _make_donors(rng: random.Random) -> tuple[str, ...]:
    donors: set[str] = set()
    while len(donors) < _DONOR_COUNT:
        donors.add("GTEX-" + _random_id(rng, rng.choice((4, 5))))
    return tuple(sorted(donors))


def _make_samples(rng: random.Random, donors: Sequence[str]) -> tuple[_Sample, ...]:
    """Each donor gives a random subset of tissues; one fixed tissue each keeps none empty."""
    samples: list[_Sample] = []
    used: set[str] = set()
    for index, donor in enumerate(donors):
        for tissue in TISSUES:
            if tissue != TISSUES[index % len(TISSUES)] and rng.random() >= 0.7:
                continue
            suffix = _random_id(rng, 5)
            while suffix in used:
                suffix = _random_id(rng, 5)
            used.add(suffix)
            sample_id = f"{donor}-{_SITES[tissue].aliquot}-SM-{suffix}"
            samples.append(_Sample(sample_id, index, tissue))
    return tuple(sorted(samples, key=lambda sample: sample.sample_id))


def _make_variant(rng: random.Random, chromosome: str, position: int, donors: int) -> _Variant:
    ref, alt = rng.sample("ACGT", 2)
    alt_frequency = 0.03 + 0.47 * rng.random()
    dosages: list[int | None] = []
    for _ in range(donors):
        if rng.random() < 0.01:  # about one call in a hundred fails, written ./. in the VCF
            dosages.append(None)
        else:
            dosages.append((rng.random() < alt_frequency) + (rng.random() < alt_frequency))
    return _Variant(chromosome, position, ref, alt, tuple(dosages))


def _make_variants(rng: random.Random, donors: int) -> dict[str, tuple[_Variant, ...]]:
    """SNPs cluster near each TSS, as cis-eQTL variants do, and never leave the ±1 Mb window."""
    taken: set[tuple[str, int]] = set()
    by_gene: dict[str, tuple[_Variant, ...]] = {}
    for gene in GENES:
        variants: list[_Variant] = []
        while len(variants) < _VARIANTS_PER_GENE:
            offset = int(_CIS_WINDOW * rng.random() * rng.random())
            position = gene.tss + (offset if rng.random() < 0.5 else -offset)
            if (gene.chromosome, position) in taken:
                continue
            taken.add((gene.chromosome, position))
            variants.append(_make_variant(rng, gene.chromosome, position, donors))
        by_gene[gene.gene_id] = tuple(sorted(variants, key=lambda v: v.position))
    return by_gene


def _plant_effects(
    rng: random.Random, variants_by_gene: dict[str, tuple[_Variant, ...]]
) -> dict[str, _Effect]:
    """About three genes in five get one causal common variant that shifts their expression."""
    effects: dict[str, _Effect] = {}
    for gene in GENES:
        common = [v for v in variants_by_gene[gene.gene_id] if v.maf >= 0.05]
        if not common or rng.random() >= 0.6:
            continue
        size = 0.15 + 0.45 * rng.random()
        beta = size if rng.random() < 0.5 else -size
        effects[gene.gene_id] = _Effect(rng.choice(common), beta)
    return effects


def _tissue_factors(rng: random.Random, gene: Gene) -> dict[str, float]:
    """Markers stay in their real tissue; some synthetic genes peak in one, or switch off."""
    synthetic = gene.symbol.startswith("GENE")
    peak = _MARKERS.get(gene.symbol) or (rng.choice(TISSUES) if rng.random() < 0.2 else None)
    factors: dict[str, float] = {}
    for tissue in TISSUES:
        factor = 0.3 + 1.4 * rng.random()
        if tissue == peak:
            factor *= 5.0 + 25.0 * rng.random()
        elif gene.symbol in _MARKERS or (synthetic and rng.random() < 0.08):
            factor *= 0.02 * rng.random()
        factors[tissue] = factor
    return factors


def _transcript_shares(rng: random.Random, count: int) -> list[float]:
    weights = [0.2 + rng.random() for _ in range(count)]
    weights[0] += 1.5  # the canonical isoform carries most of the expression
    total = sum(weights)
    return [weight / total for weight in weights]


def _simulate_expression(
    rng: random.Random, samples: Sequence[_Sample], effects: dict[str, _Effect]
) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Transcript TPM per sample; gene TPM is their sum, as RSEM reports it."""
    transcript_tpm: dict[str, list[int]] = {}
    gene_tpm: dict[str, list[int]] = {}
    for gene in GENES:
        # Markers are among the most abundant transcripts of their tissue, as in real GTEx.
        low, high = _LEVEL_BANDS[-1] if gene.symbol in _MARKERS else rng.choice(_LEVEL_BANDS)
        draw = rng.random()
        level = low + (high - low) * draw * draw
        factors = _tissue_factors(rng, gene)
        shares = _transcript_shares(rng, len(gene.transcript_ids))
        effect = effects.get(gene.gene_id)
        rows: list[list[int]] = [[] for _ in gene.transcript_ids]
        for sample in samples:
            noise = (0.55 + 0.9 * rng.random()) * (0.55 + 0.9 * rng.random())  # right-skewed
            value = level * factors[sample.tissue] * noise
            if effect is not None:
                dosage = effect.variant.dosages[sample.donor]
                for _ in range(dosage or 0):  # a failed call counts as no alt allele
                    value *= 1.0 + effect.beta
            for row, share in zip(rows, shares, strict=True):
                row.append(round(1000 * value * share * (0.75 + 0.5 * rng.random())))
        for transcript_id, row in zip(gene.transcript_ids, rows, strict=True):
            transcript_tpm[transcript_id] = row
        gene_tpm[gene.gene_id] = [sum(column) for column in zip(*rows, strict=True)]
    return transcript_tpm, gene_tpm


def _simulate_study(rng: random.Random) -> _Study:
    donors = _make_donors(rng)
    samples = _make_samples(rng, donors)
    variants_by_gene = _make_variants(rng, len(donors))
    effects = _plant_effects(rng, variants_by_gene)
    transcript_tpm, gene_tpm = _simulate_expression(rng, samples, effects)
    columns = {t: [i for i, s in enumerate(samples) if s.tissue == t] for t in TISSUES}
    return _Study(donors, samples, variants_by_gene, effects, transcript_tpm, gene_tpm, columns)


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


def _matrix(study: _Study, level: str) -> tuple[list[str], list[tuple[str, str, list[int]]]]:
    """The two id columns GTEx uses for a gene or transcript matrix, and its rows."""
    if level == "gene":
        rows = [(g.gene_id, g.symbol, study.gene_tpm[g.gene_id]) for g in GENES]
        return ["Name", "Description"], rows
    rows = [(t, g.gene_id, study.transcript_tpm[t]) for g in GENES for t in g.transcript_ids]
    return ["transcript_id", "gene_id"], rows


def _tpm_lines(study: _Study, level: str) -> Iterator[str]:
    ids, rows = _matrix(study, level)
    header = [*ids, *(sample.sample_id for sample in study.samples)]
    return _gct(header, [[first, second, *map(_tpm, values)] for first, second, values in rows])


def _median_tpm_lines(study: _Study, level: str) -> Iterator[str]:
    """Medians from the very rows the controlled matrix prints, so the two files always agree."""
    ids, rows = _matrix(study, level)
    medians = [
        [first, second, *(_median_tpm([values[i] for i in study.columns[t]]) for t in TISSUES)]
        for first, second, values in rows
    ]
    return _gct([*ids, *TISSUES], medians)


def _vcf_lines(study: _Study) -> Iterator[str]:
    yield "##fileformat=VCFv4.2"
    yield "##source=custodian synthetic GTEx demo"
    yield "##reference=GRCh38"
    for chromosome, length in _CONTIG_LENGTHS.items():
        yield f"##contig=<ID={chromosome},length={length},assembly=GRCh38>"
    yield '##INFO=<ID=AF,Number=A,Type=Float,Description="Alternate allele frequency in donors">'
    yield '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">'
    yield "\t".join([*_VCF_COLUMNS, *study.donors])
    order = {chromosome: rank for rank, chromosome in enumerate(_CONTIG_LENGTHS)}
    variants = [v for gene_variants in study.variants_by_gene.values() for v in gene_variants]
    for v in sorted(variants, key=lambda v: (order[v.chromosome], v.position)):
        fields = [v.chromosome, str(v.position), v.variant_id, v.ref, v.alt, ".", "PASS"]
        fields += [f"AF={v.alt_frequency:.4f}", "GT", *(_GENOTYPES[d] for d in v.dosages)]
        yield "\t".join(fields)


def _sample_attribute_lines(rng: random.Random, study: _Study) -> Iterator[str]:
    yield "\t".join(["SAMPID", "SMTS", "SMTSD", "SMRIN", "SMTSISCH", "SMNABTCHT"])
    for sample in study.samples:
        site = _SITES[sample.tissue]
        rin = f"{5.5 + 4.3 * rng.random():.1f}"
        minutes = str(rng.randint(*site.ischaemic_minutes))
        yield "\t".join((sample.sample_id, site.smts, sample.tissue, rin, minutes, site.batch_type))


def _subject_phenotype_lines(rng: random.Random, study: _Study) -> Iterator[str]:
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
    rng: random.Random, gene: Gene, tissue: str, variant: _Variant, effect: _Effect
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


def _eqtl_lines(rng: random.Random, study: _Study) -> Iterator[str]:
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
    """Writes text with a final newline; a .gz name gets a gzip stream with no time or name."""
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    if relative_path.endswith(".gz"):
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
    study = _simulate_study(rng)
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
        files.append(DemoFile(relative_path, kind, tier, template.format(**counts)))
    return files
