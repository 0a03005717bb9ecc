"""The open-results API without sign-in: the rows of the demo's own files, by gene, variant and
tissue, paged stably, and downloaded as the same rows in TSV and CSV."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import DemoInstance
from tests.integration.open_results_support import (
    EQTL_FILE,
    GENE_FILE,
    TRANSCRIPT_FILE,
    all_pages,
    eqtl_rows_from_file,
    parse_delimited,
    read_gct,
    read_table,
    typed,
)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.integration.open_results_support import write_demo_files

    return write_demo_files(tmp_path_factory.mktemp("demo-files"))


@pytest.fixture
def client(demo: DemoInstance) -> FlaskClient:
    return demo.app.test_client()


def busiest(files: Path, column: str) -> str:
    """The value of column with the most eQTL rows: the longest pages to walk."""
    counts = Counter(row[column] for row in read_table(files / EQTL_FILE))
    return counts.most_common(1)[0][0]


def as_set(rows: list[dict[str, Any]]) -> Counter[tuple[tuple[str, Any], ...]]:
    return Counter(typed(row) for row in rows)


def test_a_gene_by_symbol_and_by_ensembl_id_gives_its_rows_from_the_file(
    client: FlaskClient, files: Path
) -> None:
    gene_id = busiest(files, "gene_id")
    expected = Counter(eqtl_rows_from_file(files, gene_id=gene_id))
    symbol = next(r["gene_name"] for r in read_table(files / EQTL_FILE) if r["gene_id"] == gene_id)
    for name in (symbol, symbol.lower(), gene_id, gene_id.split(".")[0]):
        rows = client.get(f"/api/v1/eqtls?gene={name}&limit=1000").get_json()["eqtls"]
        assert as_set(rows) == expected, name
        pvals = [row["pval_nominal"] for row in rows]
        assert pvals == sorted(pvals)


def test_a_variant_by_id_and_by_chrom_pos_gives_its_rows(client: FlaskClient, files: Path) -> None:
    variant = busiest(files, "variant_id")
    chrom, pos = variant.split("_")[:2]
    expected = Counter(eqtl_rows_from_file(files, variant_id=variant))
    assert sum(expected.values()) > 1
    for query in (variant, f"{chrom}:{pos}", f"{chrom.removeprefix('chr')}:{pos}"):
        rows = client.get(f"/api/v1/eqtls?variant={query}&limit=1000").get_json()["eqtls"]
        assert as_set(rows) == expected, query


def test_a_tissue_gives_its_rows_and_filters_narrow_them(client: FlaskClient, files: Path) -> None:
    expected = eqtl_rows_from_file(files, tissue="Liver")
    assert as_set(all_pages(client, "tissue=Liver", limit=1000)) == Counter(expected)
    strict = Counter(row for row in expected if dict(row)["pval_nominal"] <= 1e-10
                     and dict(row)["qval"] <= 1e-8)
    assert 0 < sum(strict.values()) < len(expected)
    narrowed = all_pages(client, "tissue=Liver&max_pval=1e-10&max_qval=1e-8", limit=1000)
    assert as_set(narrowed) == strict


def test_gene_and_tissue_together_give_their_intersection(client: FlaskClient, files: Path) -> None:
    gene_id = busiest(files, "gene_id")
    rows = client.get(f"/api/v1/eqtls?gene={gene_id}&tissue=Lung&limit=1000").get_json()["eqtls"]
    assert as_set(rows) == Counter(eqtl_rows_from_file(files, gene_id=gene_id, tissue="Lung"))


@pytest.mark.parametrize("query, limit", [("gene=GENE", 1), ("tissue=Thyroid", 7),
                                          ("tissue=Thyroid", 50)])
def test_pages_concatenate_to_the_whole_answer_without_repeats(
    client: FlaskClient, files: Path, query: str, limit: int
) -> None:
    query = query.replace("GENE", busiest(files, "gene_id"))
    whole = client.get(f"/api/v1/eqtls?{query}&limit=1000").get_json()
    assert whole["next_cursor"] is None and len(whole["eqtls"]) > 2 * limit
    paged = all_pages(client, query, limit=limit)
    assert paged == whole["eqtls"]
    keys = [(row["gene_id"], row["variant_id"], row["tissue"]) for row in paged]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("fmt, delimiter", [("tsv", "\t"), ("csv", ",")])
@pytest.mark.parametrize("query", ["tissue=Liver", "gene=GENE", "variant=VARIANT"])
def test_a_download_has_the_same_rows_as_every_page(
    client: FlaskClient, files: Path, fmt: str, delimiter: str, query: str
) -> None:
    query = query.replace("VARIANT", busiest(files, "variant_id"))
    query = query.replace("GENE", busiest(files, "gene_id"))
    response = client.get(f"/api/v1/eqtls?{query}&format={fmt}")
    assert response.status_code == 200
    assert response.mimetype == {"tsv": "text/tab-separated-values", "csv": "text/csv"}[fmt]
    assert response.headers["Content-Disposition"].startswith("attachment; filename=\"eqtls_")
    downloaded = parse_delimited(response.get_data(as_text=True), delimiter)
    assert as_set(downloaded) == as_set(all_pages(client, query, limit=100))


def test_a_download_of_many_pages_is_complete(
    client: FlaskClient, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("datasets.results.queries.DOWNLOAD_BATCH", 13)
    text = client.get("/api/v1/eqtls?tissue=Lung&format=tsv").get_data(as_text=True)
    assert as_set(parse_delimited(text, "\t")) == Counter(eqtl_rows_from_file(files, tissue="Lung"))


def test_expression_across_tissues_equals_the_median_file(client: FlaskClient, files: Path) -> None:
    row = next(r for r in read_gct(files / GENE_FILE) if r["Description"] == "ALB")
    body = client.get("/api/v1/expression/genes/ALB").get_json()
    assert body["gene"] == {"gene_id": row["Name"], "gene_name": "ALB"}
    assert {v["tissue"]: v["median_tpm"] for v in body["expression"]} == {
        tissue: float(value) for tissue, value in row.items()
        if tissue not in ("Name", "Description")}
    text = client.get(f"/api/v1/expression/genes/{row['Name']}?format=tsv").get_data(as_text=True)
    assert as_set(parse_delimited(text, "\t")) == Counter(
        typed({"gene_id": row["Name"], "gene_name": "ALB", **v}) for v in body["expression"])


def test_isoform_expression_equals_the_transcript_median_file(
    client: FlaskClient, files: Path
) -> None:
    # The gene with the most isoforms (the first such in the file), so the rows differ.
    isoforms = Counter(r["gene_id"] for r in read_gct(files / TRANSCRIPT_FILE))
    gene_id = isoforms.most_common(1)[0][0]
    expected = Counter(
        typed({"transcript_id": r["transcript_id"], "tissue": tissue, "median_tpm": value})
        for r in read_gct(files / TRANSCRIPT_FILE) if r["gene_id"] == gene_id
        for tissue, value in r.items() if tissue not in ("transcript_id", "gene_id"))
    body = client.get(f"/api/v1/expression/genes/{gene_id}/isoforms").get_json()
    assert as_set(body["isoforms"]) == expected
    assert len({row["transcript_id"] for row in body["isoforms"]}) > 1
    text = client.get(f"/api/v1/expression/genes/{gene_id}/isoforms?format=csv").get_data(
        as_text=True)
    assert as_set([{k: v for k, v in r.items() if k != "gene_id"}
                   for r in parse_delimited(text, ",")]) == expected


def test_no_sign_in_is_needed_and_a_bad_token_is_still_refused(client: FlaskClient) -> None:
    assert client.get("/api/v1/eqtls?gene=ALB").status_code == 200
    refused = client.get("/api/v1/eqtls?gene=ALB", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401


def test_gene_suggestions_start_with_prefixes_then_substrings_in_any_case(
    client: FlaskClient,
) -> None:
    body = client.get("/api/v1/genes/suggestions?q=al&limit=20").get_json()
    symbols = [gene["gene_name"] for gene in body["genes"]]
    assert symbols[0] == "ALB" and all(s.startswith("AL") for s in symbols)
    assert body["genes"][0] == {"gene_id": "ENSG00000163631.16", "gene_name": "ALB"}
    inside = client.get("/api/v1/genes/suggestions?q=ENE00").get_json()["genes"]
    assert len(inside) == 10  # the default limit; GENE0013 ... contain it
    assert all("ENE00" in gene["gene_name"] for gene in inside)
    mixed = client.get("/api/v1/genes/suggestions?q=gene001&limit=20").get_json()["genes"]
    assert [g["gene_name"] for g in mixed] == [f"GENE{n:04d}" for n in range(13, 20)]
    assert client.get("/api/v1/genes/suggestions?q=ZZZ").get_json() == {"genes": []}
