"""Helpers shared by the open-results tests: the demo's own files, read without our parser."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from audit.log.models import AuditEvent
from datasets.demo import synthetic_study as demo_study
from datasets.results.models import EqtlResult, GeneMedianTpm, ResultImport, TranscriptMedianTpm
from tests.conftest import DemoInstance

EQTL_FILE = "open/GTEx_demo.eqtl_signif_pairs.txt.gz"
GENE_FILE = "open/GTEx_demo.gene_median_tpm.gct.gz"
TRANSCRIPT_FILE = "open/GTEx_demo.transcript_median_tpm.gct.gz"
EQTL_COLUMNS = ("gene_id", "gene_name", "variant_id", "tissue", "tss_distance", "maf",
                "pval_nominal", "slope", "slope_se", "qval")
NUMERIC = {"tss_distance", "maf", "pval_nominal", "slope", "slope_se", "qval", "median_tpm"}


def write_demo_files(directory: Path) -> Path:
    """The same bytes `flask demo setup` loaded (the demo study is deterministic)."""
    demo_study.write_demo_study(directory)
    return directory


def read_table(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def read_gct(path: Path) -> list[dict[str, str]]:
    """A GCT as one dict per row, the preamble (#1.2 and the sizes) skipped."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        lines = handle.read().splitlines()[2:]
    return list(csv.DictReader(lines, delimiter="\t"))


def typed(row: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """A row as comparable (column, value) pairs: numbers as floats, missing as None."""
    def value(column: str, raw: Any) -> Any:
        if raw in ("", "NA", None):
            return None
        return float(raw) if column in NUMERIC else raw
    return tuple(sorted((column, value(column, raw)) for column, raw in row.items()))


def eqtl_rows_from_file(directory: Path, **where: str) -> list[tuple[tuple[str, Any], ...]]:
    return [typed(row) for row in read_table(directory / EQTL_FILE)
            if all(row[column] == wanted for column, wanted in where.items())]


def all_pages(client: FlaskClient, query: str, limit: int) -> list[dict[str, Any]]:
    """Follows next_cursor to the end; fails on a repeated cursor, so a loop cannot hide."""
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        url = f"/api/v1/eqtls?{query}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert len(body["eqtls"]) <= limit
        rows += body["eqtls"]
        cursor = body["next_cursor"]
        if cursor is None:
            return rows
        assert cursor not in seen
        seen.add(cursor)


def parse_delimited(text: str, delimiter: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


def result_counts(demo: DemoInstance) -> dict[str, int]:
    """Rows in every table an import or a query could touch, to prove nothing changed."""
    with demo.app.extensions["custodian.session_factory"]() as session:
        return {model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (EqtlResult, GeneMedianTpm, TranscriptMedianTpm, ResultImport,
                              AuditEvent)}
