"""Nothing of the controlled tier reaches an open-results response: no donor or sample id, no
genotype call, no controlled file, and no query of any table but the results tables."""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from tests.conftest import DemoInstance
from tests.integration.open_results_support import EQTL_FILE, read_table

RESULT_TABLES = {"result_genes", "result_tissues", "result_transcripts", "eqtl_results",
                 "gene_median_tpm", "transcript_median_tpm"}
GENOTYPE_CALL = re.compile(r"(?<![\d.])(?:0/0|0/1|1/1|\./\.)(?![\d.])")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.integration.open_results_support import write_demo_files

    return write_demo_files(tmp_path_factory.mktemp("demo-files"))


def controlled_identifiers(files: Path) -> set[str]:
    """Every donor and sample id in the controlled files, and the files' own names."""
    folder = files / "controlled"
    with (folder / "GTEx_demo.SampleAttributesDS.txt").open() as handle:
        found = {row["SAMPID"] for row in csv.DictReader(handle, delimiter="\t")}
    with (folder / "GTEx_demo.SubjectPhenotypesDS.txt").open() as handle:
        found |= {row["SUBJID"] for row in csv.DictReader(handle, delimiter="\t")}
    with gzip.open(folder / "GTEx_demo.genotypes.vcf.gz", "rt") as handle:
        header = next(line for line in handle if line.startswith("#CHROM"))
    found |= set(header.split()[9:])
    return found | {path.name for path in folder.iterdir()}


def open_urls(files: Path) -> Iterator[str]:
    rows = read_table(files / EQTL_FILE)
    genes = [*sorted({row["gene_id"] for row in rows})[:5], "ALB", "HBB"]
    variants = sorted({row["variant_id"] for row in rows})[:5]
    tissues = sorted({row["tissue"] for row in rows})
    for gene in genes:
        yield f"/results/genes/{gene}"
        for fmt in ("json", "tsv", "csv"):
            yield f"/api/v1/eqtls?gene={gene}&format={fmt}"
            yield f"/api/v1/expression/genes/{gene}?format={fmt}"
            yield f"/api/v1/expression/genes/{gene}/isoforms?format={fmt}"
    for variant in variants:
        yield f"/results/variants/{variant}"
        yield f"/api/v1/eqtls?variant={variant}&format=tsv"
    for tissue in tissues:
        yield f"/results/tissues/{tissue}"
        yield f"/api/v1/eqtls?tissue={tissue}&format=tsv"
    yield "/results"


def test_no_open_response_carries_anything_of_the_controlled_tier(
    demo: DemoInstance, files: Path
) -> None:
    secrets = controlled_identifiers(files)
    assert len(secrets) > 100 and all(s.startswith("GTEX-") for s in secrets if "." not in s)
    statements: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = demo.app.extensions["custodian.engine"]
    event.listen(engine, "before_cursor_execute", capture)
    client = demo.app.test_client()
    try:
        for url in open_urls(files):
            response = client.get(url)
            assert response.status_code == 200, url
            body = response.get_data(as_text=True)
            assert "GTEX-" not in body, url
            assert not any(secret in body for secret in secrets), url
            if url.startswith("/api/"):
                assert not GENOTYPE_CALL.search(body), url
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    read = {name for statement in statements
            for name in re.findall(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+\"?(\w+)", statement)}
    assert read and read <= RESULT_TABLES, read - RESULT_TABLES
