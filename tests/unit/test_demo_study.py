"""The synthetic demo study: same bytes for the same seed, GTEx-shaped files that agree."""

from __future__ import annotations

import gzip
import hashlib
import re
import statistics
from pathlib import Path

import pysam
import pytest

from datasets.demo.simulation import GENES, TISSUES
from datasets.demo.synthetic_study import (
    CONSENT_GROUP_ACCESSION,
    STUDY_ACCESSION,
    DemoFile,
    write_demo_study,
)

EXPECTED_FILES = {
    "controlled/GTEx_demo.genotypes.vcf.gz": ("genotype", "controlled"),
    "controlled/GTEx_demo.gene_tpm.gct.gz": ("expression", "controlled"),
    "controlled/GTEx_demo.transcript_tpm.gct.gz": ("expression", "controlled"),
    "controlled/GTEx_demo.SampleAttributesDS.txt": ("clinical", "controlled"),
    "controlled/GTEx_demo.SubjectPhenotypesDS.txt": ("clinical", "controlled"),
    "open/GTEx_demo.eqtl_signif_pairs.txt.gz": ("summary", "open"),
    "open/GTEx_demo.gene_median_tpm.gct.gz": ("summary", "open"),
    "open/GTEx_demo.transcript_median_tpm.gct.gz": ("summary", "open"),
    "controlled/GTEx_demo.rnaseq.Liver.bam": ("alignment", "controlled"),
    "controlled/GTEx_demo.rnaseq.Lung.bam": ("alignment", "controlled"),
    "controlled/GTEx_demo.rnaseq.Whole_Blood.bam": ("alignment", "controlled"),
    "controlled/GTEx_demo.rnaseq.Liver.cram": ("alignment", "controlled"),
}
BAMS = [path for path in EXPECTED_FILES if path.endswith(".bam")]
CRAM = "controlled/GTEx_demo.rnaseq.Liver.cram"
VCF = "controlled/GTEx_demo.genotypes.vcf.gz"
GENE_TPM = "controlled/GTEx_demo.gene_tpm.gct.gz"
TRANSCRIPT_TPM = "controlled/GTEx_demo.transcript_tpm.gct.gz"
GENE_MEDIANS = "open/GTEx_demo.gene_median_tpm.gct.gz"
GCT_FILES = {
    GENE_TPM: ["Name", "Description"],
    TRANSCRIPT_TPM: ["transcript_id", "gene_id"],
    GENE_MEDIANS: ["Name", "Description"],
    "open/GTEx_demo.transcript_median_tpm.gct.gz": ["transcript_id", "gene_id"],
}
SAMPLE_ATTRIBUTES = "controlled/GTEx_demo.SampleAttributesDS.txt"
SUBJECT_PHENOTYPES = "controlled/GTEx_demo.SubjectPhenotypesDS.txt"
EQTLS = "open/GTEx_demo.eqtl_signif_pairs.txt.gz"
GENOTYPES = {"0/0", "0/1", "1/1", "./."}
SCIENTIFIC = re.compile(r"\d\.\d{3}e-\d{2}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[DemoFile]]:
    """One study for the read-only tests: generating it is the slow part."""
    directory = tmp_path_factory.mktemp("demo")
    return directory, write_demo_study(directory)


@pytest.fixture(scope="module")
def root(demo: tuple[Path, list[DemoFile]]) -> Path:
    return demo[0]


def read_lines(path: Path) -> list[str]:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8").splitlines()


def read_table(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in read_lines(path)]


def vcf_body(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in read_lines(path) if not line.startswith("##")]


def digests(directory: Path, files: list[DemoFile]) -> dict[str, str]:
    paths = [f.relative_path for f in files] + [f.index_path for f in files if f.index_path]
    return {path: hashlib.sha256((directory / path).read_bytes()).hexdigest() for path in paths}


def test_the_same_seed_writes_byte_identical_files(
    tmp_path: Path, demo: tuple[Path, list[DemoFile]]
) -> None:
    directory, files = demo

    again = write_demo_study(tmp_path)

    assert again == files
    assert digests(tmp_path, again) == digests(directory, files)


def test_gzip_headers_carry_no_timestamp_or_file_name(root: Path) -> None:
    for relative_path in EXPECTED_FILES:
        if relative_path.endswith(".gz"):
            header = (root / relative_path).read_bytes()[:10]
            assert header[:3] == b"\x1f\x8b\x08"
            # BGZF (the VCF) sets FEXTRA for its block size; nothing may set FNAME or others.
            assert header[3] == (4 if relative_path == VCF else 0), \
                f"{relative_path} sets gzip flags (a file name?)"
            assert header[4:8] == b"\x00\x00\x00\x00", f"{relative_path} records an mtime"


def test_a_different_seed_gives_different_genotypes(tmp_path: Path, root: Path) -> None:
    write_demo_study(tmp_path, seed=425)

    ours = [row[9:] for row in vcf_body(root / VCF)[1:]]
    theirs = [row[9:] for row in vcf_body(tmp_path / VCF)[1:]]

    assert ours != theirs


def test_every_file_exists_with_its_kind_and_tier(demo: tuple[Path, list[DemoFile]]) -> None:
    directory, files = demo

    assert [f.relative_path for f in files] == list(EXPECTED_FILES)
    for demo_file in files:
        assert (directory / demo_file.relative_path).is_file()
        assert (demo_file.kind, demo_file.tier) == EXPECTED_FILES[demo_file.relative_path]
        assert demo_file.description.endswith(".")
        assert "\n" not in demo_file.description
        assert "{" not in demo_file.description, "an unfilled description placeholder"
    total = sum((directory / f.relative_path).stat().st_size for f in files)
    assert 500_000 <= total <= 15_000_000


def test_study_constants_name_the_gtex_demo() -> None:
    assert STUDY_ACCESSION == "phs000424"
    assert CONSENT_GROUP_ACCESSION.startswith(STUDY_ACCESSION + ".")
    assert len(set(TISSUES)) == len(TISSUES) >= 6
    assert len({gene.gene_id for gene in GENES}) == len(GENES) >= 150
    assert [gene.symbol for gene in GENES[:4]] == ["TP53", "BRCA1", "APOE", "CFTR"]
    transcripts = [t for gene in GENES for t in gene.transcript_ids]
    assert len(set(transcripts)) == len(transcripts)
    for gene in GENES:
        assert re.fullmatch(r"ENSG\d{11}\.\d+", gene.gene_id)
        assert 1 <= len(gene.transcript_ids) <= 4
        assert all(re.fullmatch(r"ENST\d{11}\.\d+", t) for t in gene.transcript_ids)


def test_vcf_header_is_valid_and_every_row_has_one_genotype_per_donor(root: Path) -> None:
    lines = read_lines(root / VCF)
    meta = [line for line in lines if line.startswith("##")]
    contigs = re.findall(r"##contig=<ID=(chr\w+),length=\d+", "\n".join(meta))
    donors = [row[0] for row in read_table(root / SUBJECT_PHENOTYPES)[1:]]

    assert lines[0] == "##fileformat=VCFv4.2"
    assert any(line.startswith("##INFO=<ID=") for line in meta)
    assert '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">' in meta
    header, *rows = vcf_body(root / VCF)
    assert header[:9] == ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]
    assert header[9:] == donors
    assert 1_500 <= len(rows) <= 3_000
    called: set[str] = set()
    for row in rows:
        chromosome, position, variant_id, ref, alt = row[:5]
        assert len(row) == 9 + len(donors)
        assert chromosome in contigs
        assert variant_id == f"{chromosome}_{position}_{ref}_{alt}_b38"
        assert ref in "ACGT" and alt in "ACGT" and ref != alt
        assert row[8] == "GT"
        assert set(row[9:]) <= GENOTYPES
        called |= set(row[9:])
    assert called == GENOTYPES
    order = [(contigs.index(row[0]), int(row[1])) for row in rows]
    assert order == sorted(order)


def test_expression_columns_are_exactly_the_attribute_samples(root: Path) -> None:
    sample_ids = [row[0] for row in read_table(root / SAMPLE_ATTRIBUTES)[1:]]

    assert len(set(sample_ids)) == len(sample_ids)
    for relative_path in (GENE_TPM, TRANSCRIPT_TPM):
        header = read_table(root / relative_path)[2]
        assert header[2:] == sample_ids, relative_path


@pytest.mark.parametrize("relative_path", list(GCT_FILES))
def test_gct_dimension_line_matches_rows_and_columns(root: Path, relative_path: str) -> None:
    version, dimensions, header, *rows = read_table(root / relative_path)

    assert version == ["#1.2"]
    assert header[:2] == GCT_FILES[relative_path]
    assert dimensions == [str(len(rows)), str(len(header) - 2)]
    assert all(len(row) == len(header) for row in rows)


def test_sample_attributes_use_gtex_ids_and_columns(root: Path) -> None:
    header, *rows = read_table(root / SAMPLE_ATTRIBUTES)
    donors = {row[0] for row in read_table(root / SUBJECT_PHENOTYPES)[1:]}

    assert header == ["SAMPID", "SMTS", "SMTSD", "SMRIN", "SMTSISCH", "SMNABTCHT"]
    assert {row[2] for row in rows} == set(TISSUES)
    for sample_id, _, _, rin, minutes, _ in rows:
        match = re.fullmatch(r"(GTEX-[0-9A-Z]{4,5})-\d{4}(-R\d+[a-z])?-SM-[0-9A-Z]{4,5}", sample_id)
        assert match is not None, sample_id
        assert match.group(1) in donors
        assert 1.0 <= float(rin) <= 10.0
        assert int(minutes) >= 0


def test_subject_phenotypes_carry_only_age_brackets(root: Path) -> None:
    header, *rows = read_table(root / SUBJECT_PHENOTYPES)

    assert header == ["SUBJID", "SEX", "AGE", "DTHHRDY"]
    assert len(rows) >= 50
    for subject, sex, age, hardy in rows:
        assert re.fullmatch(r"GTEX-[0-9A-Z]{4,5}", subject)
        assert sex in {"1", "2"}
        assert re.fullmatch(r"\d0-\d9", age), f"{subject} has an exact age: {age!r}"
        assert age[0] == age[3], f"{subject} has a bracket wider than ten years: {age!r}"
        assert hardy in {"", "0", "1", "2", "3", "4"}
    assert "" in {row[3] for row in rows}


@pytest.mark.parametrize(
    ("level", "tissue"), [("gene", "Liver"), ("transcript", "Liver"), ("gene", "Whole Blood")]
)
def test_median_tpm_equals_the_median_of_the_controlled_matrix(
    root: Path, level: str, tissue: str
) -> None:
    albumin = next(gene for gene in GENES if gene.symbol == "ALB")
    row_id = albumin.gene_id if level == "gene" else albumin.transcript_ids[0]
    in_tissue = {row[0] for row in read_table(root / SAMPLE_ATTRIBUTES)[1:] if row[2] == tissue}
    _, _, header, *rows = read_table(root / f"controlled/GTEx_demo.{level}_tpm.gct.gz")
    values = next(row for row in rows if row[0] == row_id)
    cells = zip(header, values, strict=True)
    expected = statistics.median(float(value) for sample, value in cells if sample in in_tissue)

    _, _, tissues, *medians = read_table(root / f"open/GTEx_demo.{level}_median_tpm.gct.gz")
    median_row = next(row for row in medians if row[0] == row_id)

    assert float(median_row[tissues.index(tissue)]) == pytest.approx(expected, abs=1e-9)


def test_marker_genes_peak_in_their_own_tissue(root: Path) -> None:
    _, _, header, *rows = read_table(root / GENE_MEDIANS)
    medians = {row[1]: dict(zip(header[2:], map(float, row[2:]), strict=True)) for row in rows}

    for symbol, tissue in [("ALB", "Liver"), ("HBB", "Whole Blood"), ("GFAP", "Brain - Cortex")]:
        others = [value for name, value in medians[symbol].items() if name != tissue]
        assert medians[symbol][tissue] > 10 * max(others), symbol


def test_gene_tpm_is_the_sum_of_its_transcripts(root: Path) -> None:
    genes = {row[0]: row[2:] for row in read_table(root / GENE_TPM)[3:]}
    totals: dict[str, list[int]] = {}
    for row in read_table(root / TRANSCRIPT_TPM)[3:]:
        milli = [round(float(value) * 1000) for value in row[2:]]
        so_far = totals.get(row[1], [0] * len(milli))
        totals[row[1]] = [a + b for a, b in zip(so_far, milli, strict=True)]

    assert set(totals) == set(genes)
    for gene_id, values in genes.items():
        assert [round(float(value) * 1000) for value in values] == totals[gene_id]


def test_every_eqtl_variant_is_in_the_vcf_and_in_cis(root: Path) -> None:
    header, *rows = read_table(root / EQTLS)
    positions = {row[2]: int(row[1]) for row in vcf_body(root / VCF)[1:]}
    genes = {gene.gene_id: gene for gene in GENES}

    assert header == [
        "gene_id", "gene_name", "variant_id", "tissue", "tss_distance",
        "maf", "pval_nominal", "slope", "slope_se", "qval",
    ]  # fmt: skip
    assert 1_000 <= len(rows) <= 10_000
    for gene_id, symbol, variant_id, tissue, distance, maf, p_value, slope, se, q_value in rows:
        assert variant_id in positions, variant_id
        assert genes[gene_id].symbol == symbol
        assert tissue in TISSUES
        assert int(distance) == positions[variant_id] - genes[gene_id].tss
        assert abs(int(distance)) <= 1_000_000
        assert 0.0 < float(maf) <= 0.5
        assert SCIENTIFIC.fullmatch(p_value) and SCIENTIFIC.fullmatch(q_value)
        assert float(p_value) < 1e-3 and float(p_value) <= float(q_value) < 0.05
        assert float(slope) != 0.0 and float(se) > 0.0


def test_the_vcf_is_bgzf_with_a_tabix_index_that_finds_each_genes_variants(
    demo: tuple[Path, list[DemoFile]]
) -> None:
    directory, files = demo
    [genotypes] = [f for f in files if f.relative_path == VCF]
    assert genotypes.index_path == VCF + ".tbi"
    pysam.set_verbosity(0)
    with pysam.VariantFile(str(directory / VCF), index_filename=str(
            directory / genotypes.index_path)) as vcf:
        cftr = next(g for g in GENES if g.symbol == "CFTR")
        near = list(vcf.fetch(cftr.chromosome, cftr.tss - 1_000_000, cftr.tss + 1_000_000))
        assert len(near) >= 10  # the gene's own ten cis variants, at least
        assert all(r.chrom == "chr7" for r in near)
    assert (directory / VCF).read_bytes().endswith(bytes.fromhex(
        "1f8b08040000000000ff0600424302001b0003000000000000000000"))


@pytest.mark.parametrize("relative_path", BAMS)
def test_each_bam_is_sorted_indexed_and_holds_reads_over_the_demo_genes(
    demo: tuple[Path, list[DemoFile]], relative_path: str
) -> None:
    directory, files = demo
    [bam] = [f for f in files if f.relative_path == relative_path]
    assert bam.index_path == relative_path + ".bai"
    with pysam.AlignmentFile(str(directory / relative_path),
                             index_filename=str(directory / bam.index_path)) as reads:
        assert reads.header.to_dict()["HD"]["SO"] == "coordinate"
        placed = [(r.reference_id, r.reference_start) for r in reads.fetch(until_eof=True)
                  if not r.is_unmapped]
        assert placed == sorted(placed) and len(placed) > 1000
        assert reads.unmapped > 0 and reads.mapped == len(placed)
        on_genes = sum(reads.count(g.chromosome, g.tss, g.tss + 20_000) for g in GENES)
        assert on_genes >= len(placed)  # every read starts within 20 kb of a gene's TSS


def test_each_tissues_bam_is_richest_in_its_marker_gene(demo: tuple[Path, list[DemoFile]]
                                                        ) -> None:
    directory, _ = demo
    markers = {"Liver": "ALB", "Lung": "SFTPC", "Whole_Blood": "HBB"}
    for tissue, marker in markers.items():
        gene = next(g for g in GENES if g.symbol == marker)
        path = directory / f"controlled/GTEx_demo.rnaseq.{tissue}.bam"
        with pysam.AlignmentFile(str(path)) as reads:
            ours = reads.count(gene.chromosome, gene.tss, gene.tss + 20_000)
            others = [reads.count(g.chromosome, g.tss, g.tss + 20_000)
                      for g in GENES if g.symbol in markers.values() and g != gene]
        assert ours > max(others), tissue


def test_the_cram_holds_the_bams_reads_in_cram_3_0_readable_without_a_reference(
    demo: tuple[Path, list[DemoFile]]
) -> None:
    directory, files = demo
    [cram] = [f for f in files if f.relative_path == CRAM]
    assert cram.index_path == CRAM + ".crai"
    data = (directory / CRAM).read_bytes()
    assert data[:6] == b"CRAM\3\0" and b"/" not in data[6:26]  # no path as its file id

    def reads(path: Path) -> list[tuple[str, int, int, str | None]]:
        with pysam.AlignmentFile(str(path)) as found:
            return [(r.query_name or "", r.reference_id, r.reference_start, r.query_sequence)
                    for r in found.fetch(until_eof=True)]

    assert reads(directory / CRAM) == reads(directory / CRAM.replace(".cram", ".bam"))
    with pysam.AlignmentFile(str(directory / CRAM),
                             index_filename=str(directory / cram.index_path)) as indexed:
        gene = next(g for g in GENES if g.symbol == "ALB")
        assert indexed.count(gene.chromosome, gene.tss, gene.tss + 20_000) > 0


def test_every_named_gene_has_eqtls_so_the_walk_through_finds_them(root: Path) -> None:
    _, *rows = read_table(root / EQTLS)
    with_eqtls = {row[1] for row in rows}
    named = [gene.symbol for gene in GENES if not gene.symbol.startswith("GENE")]
    assert len(named) == 12
    assert set(named) <= with_eqtls
    liver = {row[1] for row in rows if row[3] == "Liver"}
    assert "ALB" in liver  # albumin, the liver's marker, in its own tissue
