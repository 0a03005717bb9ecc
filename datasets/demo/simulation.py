"""The synthetic study simulated from a seed: genes, tissues, donors, samples, genotypes,
planted cis-eQTLs and expression, before any of it is written into files
(synthetic_study.py). Only arithmetic on one ``random.Random``'s draws, so one seed gives
the same study everywhere.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple


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
SITES: dict[str, _Site] = {
    "Adipose - Subcutaneous": _Site("Adipose Tissue", "0226", _PLATE, (300, 1100), "ADIPOQ"),
    "Brain - Cortex": _Site("Brain", "0011-R10a", _PLATE, (600, 1400), "GFAP"),
    "Liver": _Site("Liver", "0526", _PLATE, (200, 900), "ALB"),
    "Lung": _Site("Lung", "0726", _PLATE, (150, 1000), "SFTPC"),
    "Muscle - Skeletal": _Site("Muscle", "0426", _PLATE, (100, 900), "ACTA1"),
    "Skin - Sun Exposed (Lower leg)": _Site("Skin", "2126", _PLATE, (300, 1200), "KRT10"),
    "Thyroid": _Site("Thyroid", "0826", _PLATE, (250, 1000), "TG"),
    "Whole Blood": _Site("Blood", "0005", _BLOOD, (1, 60), "HBB"),
}
TISSUES: tuple[str, ...] = tuple(sorted(SITES))

# GRCh38 lengths of the chromosomes the demo genes sit on, in karyotype order.
CONTIG_LENGTHS: dict[str, int] = {
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
KNOWN_SYMBOLS: frozenset[str] = frozenset(symbol for _, symbol, _, _ in _KNOWN_GENES)
# Real genes with real tissue specificity, so the median-TPM page shows familiar patterns.
_MARKERS: dict[str, str] = {site.marker: tissue for tissue, site in SITES.items()}
_GENE_COUNT = 200
_GENE_TABLE_SEED = 26  # fixed, not the study seed: gene ids must not move between demo runs
_SYNTHETIC_ID_BASE = 99_000_000_000
_CIS_WINDOW = 1_000_000
_DONOR_COUNT = 60
_VARIANTS_PER_GENE = 10
_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# TPM ranges a gene's base level is drawn from; repeats make the middle ranges commoner.
_LEVEL_BANDS = ((0.02, 0.5), (1.0, 20.0), (1.0, 20.0), (20.0, 150.0), (20.0, 150.0), (150.0, 900.0))


def _build_genes() -> tuple[Gene, ...]:
    """Fixed for every seed, so gene pages and links stay put whichever study was generated."""
    rng = random.Random(_GENE_TABLE_SEED)  # noqa: S311 - synthetic data, not secrets
    rows = list(_KNOWN_GENES)
    chromosomes = list(CONTIG_LENGTHS)
    for number in range(len(rows) + 1, _GENE_COUNT + 1):
        chromosome = rng.choice(chromosomes)
        tss = rng.randrange(2 * _CIS_WINDOW, CONTIG_LENGTHS[chromosome] - 2 * _CIS_WINDOW)
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
class Sample:
    sample_id: str
    donor: int
    tissue: str


@dataclass(frozen=True)
class Variant:
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
class Effect:
    """The cis-eQTL planted for a gene: its causal variant and the per-allele change in level."""

    variant: Variant
    beta: float


@dataclass(frozen=True)
class SimulatedStudy:
    """Everything simulated from the seed, before any of it is formatted into files."""

    donors: tuple[str, ...]
    samples: tuple[Sample, ...]
    variants_by_gene: dict[str, tuple[Variant, ...]]
    effects: dict[str, Effect]
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


def _make_samples(rng: random.Random, donors: Sequence[str]) -> tuple[Sample, ...]:
    """Each donor gives a random subset of tissues; one fixed tissue each keeps none empty."""
    samples: list[Sample] = []
    used: set[str] = set()
    for index, donor in enumerate(donors):
        for tissue in TISSUES:
            if tissue != TISSUES[index % len(TISSUES)] and rng.random() >= 0.7:
                continue
            suffix = _random_id(rng, 5)
            while suffix in used:
                suffix = _random_id(rng, 5)
            used.add(suffix)
            sample_id = f"{donor}-{SITES[tissue].aliquot}-SM-{suffix}"
            samples.append(Sample(sample_id, index, tissue))
    return tuple(sorted(samples, key=lambda sample: sample.sample_id))


def _make_variant(rng: random.Random, chromosome: str, position: int, donors: int) -> Variant:
    ref, alt = rng.sample("ACGT", 2)
    alt_frequency = 0.03 + 0.47 * rng.random()
    dosages: list[int | None] = []
    for _ in range(donors):
        if rng.random() < 0.01:  # about one call in a hundred fails, written ./. in the VCF
            dosages.append(None)
        else:
            dosages.append((rng.random() < alt_frequency) + (rng.random() < alt_frequency))
    return Variant(chromosome, position, ref, alt, tuple(dosages))


def _make_variants(rng: random.Random, donors: int) -> dict[str, tuple[Variant, ...]]:
    """SNPs cluster near each TSS, as cis-eQTL variants do, and never leave the ±1 Mb window."""
    taken: set[tuple[str, int]] = set()
    by_gene: dict[str, tuple[Variant, ...]] = {}
    for gene in GENES:
        variants: list[Variant] = []
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
    rng: random.Random, variants_by_gene: dict[str, tuple[Variant, ...]]
) -> dict[str, Effect]:
    """About three genes in five get one causal common variant that shifts their expression,
    and every named gene gets one, so the README's walk-through (search ALB) finds eQTLs."""
    effects: dict[str, Effect] = {}
    for gene in GENES:
        common = [v for v in variants_by_gene[gene.gene_id] if v.maf >= 0.05]
        if not common or rng.random() >= 0.6:
            if gene.symbol in KNOWN_SYMBOLS:
                effects[gene.gene_id] = _named_gene_effect(gene, variants_by_gene[gene.gene_id])
            continue
        size = 0.15 + 0.45 * rng.random()
        beta = size if rng.random() < 0.5 else -size
        effects[gene.gene_id] = Effect(rng.choice(common), beta)
    return effects


def _named_gene_effect(gene: Gene, variants: Sequence[Variant]) -> Effect:
    """Drawn from a generator of the gene's own, so the study's stream (and every other gene,
    sample and read) stays as the seed made it; the commonest variant is the causal one."""
    rng = random.Random(f"named-effect-{gene.symbol}")  # noqa: S311 - synthetic data
    size = 0.3 + 0.3 * rng.random()
    return Effect(max(variants, key=lambda v: (v.maf, v.position)),
                  size if rng.random() < 0.5 else -size)


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
    rng: random.Random, samples: Sequence[Sample], effects: dict[str, Effect]
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


def simulate_study(rng: random.Random) -> SimulatedStudy:
    donors = _make_donors(rng)
    samples = _make_samples(rng, donors)
    variants_by_gene = _make_variants(rng, len(donors))
    effects = _plant_effects(rng, variants_by_gene)
    transcript_tpm, gene_tpm = _simulate_expression(rng, samples, effects)
    columns = {t: [i for i, s in enumerate(samples) if s.tissue == t] for t in TISSUES}
    return SimulatedStudy(donors, samples, variants_by_gene, effects, transcript_tpm, gene_tpm,
                          columns)
