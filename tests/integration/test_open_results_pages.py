"""The open-results pages render for anyone: search, a gene with its bar chart, isoform heatmap
and sortable eQTL table, a variant, a tissue with its top eGenes; each links its download."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.conftest import DemoInstance
from tests.integration.open_results_support import (
    EQTL_FILE,
    GENE_FILE,
    TRANSCRIPT_FILE,
    read_gct,
    read_table,
)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.integration.open_results_support import write_demo_files

    return write_demo_files(tmp_path_factory.mktemp("demo-files"))


@pytest.fixture
def client(demo: DemoInstance) -> FlaskClient:
    return demo.app.test_client()


def busiest_gene(files: Path) -> tuple[str, str]:
    rows = read_table(files / EQTL_FILE)
    gene_id = Counter(row["gene_id"] for row in rows).most_common(1)[0][0]
    return gene_id, next(row["gene_name"] for row in rows if row["gene_id"] == gene_id)


def assert_no_inline_code(html: str) -> None:
    """The Content-Security-Policy would block inline style and script, so there must be none
    (scripts come from files: <script src=...>)."""
    assert " style=" not in html and "<style" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None


def table_column(html: str, index: int) -> list[str]:
    """The text of one column of the eQTL table, in page order."""
    body = html.split('<table class="eqtls"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)
    return [re.sub(r"<[^>]+>", "", re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[index]).strip()
            for row in rows]


def test_the_gene_page_draws_its_chart_heatmap_and_eqtl_table(
    client: FlaskClient, files: Path
) -> None:
    gene_id, symbol = busiest_gene(files)
    response = client.get(f"/results/genes/{symbol}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert_no_inline_code(html)
    tissues = [name for name in read_gct(files / GENE_FILE)[0] if name not in ("Name",
                                                                              "Description")]
    assert '<svg class="results-bars"' in html
    assert html.count('class="results-bar"') == len(tissues)
    transcripts = [r for r in read_gct(files / TRANSCRIPT_FILE) if r["gene_id"] == gene_id]
    assert '<svg class="results-heatmap"' in html
    assert html.count('class="heat-cell') == len(transcripts) * len(tissues)
    for transcript in transcripts:
        assert transcript["transcript_id"] in html
    eqtls = [row for row in read_table(files / EQTL_FILE) if row["gene_id"] == gene_id]
    assert sorted(table_column(html, 0)) == sorted(row["variant_id"] for row in eqtls)
    for download in (f"/api/v1/eqtls?gene={gene_id}&amp;format=tsv",
                     f"/api/v1/expression/genes/{gene_id}?format=tsv",
                     f"/api/v1/expression/genes/{gene_id}/isoforms?format=tsv"):
        assert download in html


def test_the_eqtl_table_sorts_by_the_chosen_column(client: FlaskClient, files: Path) -> None:
    gene_id, _ = busiest_gene(files)
    by_p = client.get(f"/results/genes/{gene_id}").get_data(as_text=True)
    pvals = [float(p) for p in table_column(by_p, 4)]
    assert pvals == sorted(pvals)
    by_tissue = client.get(f"/results/genes/{gene_id}?sort=tissue&order=desc").get_data(
        as_text=True)
    tissues = table_column(by_tissue, 1)
    assert tissues == sorted(tissues, reverse=True) and len(set(tissues)) > 1
    assert 'aria-sort="descending"' in by_tissue
    assert "?sort=tissue&amp;order=asc#eqtls" in by_tissue


def test_the_variant_page_lists_its_genes_and_tissues(client: FlaskClient, files: Path) -> None:
    rows = read_table(files / EQTL_FILE)
    variant = Counter(row["variant_id"] for row in rows).most_common(1)[0][0]
    chrom, pos = variant.split("_")[:2]
    for path in (f"/results/variants/{variant}", f"/results/variants/{chrom}:{pos}"):
        html = client.get(path).get_data(as_text=True)
        assert_no_inline_code(html)
        expected = sorted(row["tissue"] for row in rows if row["variant_id"] == variant)
        column = 1 if ":" in path else 0
        assert sorted(table_column(html, column + 1)) == expected
        assert "format=tsv" in html


def test_the_tissue_page_lists_its_top_egenes_strongest_first(
    client: FlaskClient, files: Path
) -> None:
    rows = [row for row in read_table(files / EQTL_FILE) if row["tissue"] == "Liver"]
    best: dict[str, float] = {}
    for row in rows:
        best[row["gene_name"]] = min(best.get(row["gene_name"], 1.0), float(row["pval_nominal"]))
    html = client.get("/results/tissues/Liver").get_data(as_text=True)
    assert_no_inline_code(html)
    shown = re.findall(r'<td><a href="/results/genes/[^"]+">([^<]+)</a></td>', html)
    assert shown == sorted(best, key=lambda gene: best[gene])[:len(shown)]
    assert len(shown) == min(50, len(best)) and len(set(shown)) == len(shown)
    assert "/api/v1/eqtls?tissue=Liver&amp;format=tsv" in html


def test_the_search_box_is_in_the_nav_and_on_the_catalogue(client: FlaskClient) -> None:
    for path in ("/", "/results"):
        html = client.get(path).get_data(as_text=True)
        assert 'href="/results"' in html
    search = client.get("/results").get_data(as_text=True)
    assert 'name="q"' in search and "/results/tissues/Liver" in search


@pytest.mark.parametrize("query, target", [
    ("ALB", "/results/genes/ENSG00000163631.16"),
    ("ensg00000163631", "/results/genes/ENSG00000163631.16"),
    ("chr17:7687538", "/results/variants/chr17%3A7687538"),
    ("chr1_123_A_G_b38", "/results/variants/chr1_123_A_G_b38"),
])
def test_a_search_goes_to_the_gene_or_variant_page(
    client: FlaskClient, query: str, target: str
) -> None:
    response = client.get(f"/results?q={query}")
    assert response.status_code == 303
    assert response.headers["Location"] == target


def test_every_named_demo_gene_has_an_eqtl_table_on_its_page(client: FlaskClient) -> None:
    """The README's walk-through: "search ALB for its eQTL table", and the other named genes."""
    for symbol in ("ALB", "TP53", "BRCA1", "APOE", "CFTR", "HBB", "GFAP"):
        searched = client.get(f"/results?q={symbol}")
        assert searched.status_code == 303, symbol
        html = client.get(searched.headers["Location"]).get_data(as_text=True)
        assert '<table class="eqtls"' in html, symbol
        assert len(table_column(html, 0)) > 0, symbol


def test_a_partial_gene_name_lists_the_genes_it_starts_or_is_inside(client: FlaskClient) -> None:
    response = client.get("/results?q=al")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert_no_inline_code(html)
    assert '<a href="/results/genes/ENSG00000163631.16">ALB</a>' in html
    inside = client.get("/results?q=P53").get_data(as_text=True)  # not a prefix: inside TP53
    assert '<a href="/results/genes/ENSG00000141510.16">TP53</a>' in inside
    # Short fragments match prefixes only: "53" starts no symbol.
    nothing = client.get("/results?q=53")
    assert nothing.status_code == 404
    assert "/results/genes/ENSG00000141510.16" not in nothing.get_data(as_text=True)


def test_the_search_page_offers_examples_that_each_find_something(client: FlaskClient) -> None:
    html = client.get("/results").get_data(as_text=True)
    examples = re.findall(r'<a href="/results\?q=([^"]+)"><code>', html)
    assert examples[:4] == ["ALB", "TP53", "APOE", "CFTR"]
    assert "ENSG00000163631" in examples and "AL" in examples
    variants = [example for example in examples if example.endswith("_b38")]
    assert len(variants) == 1
    for example in examples:
        answer = client.get(f"/results?q={example}")
        assert answer.status_code in (200, 303), example
        if answer.status_code == 200:  # the partial name: a list of genes
            assert "/results/genes/ENSG" in answer.get_data(as_text=True)
    variant_page = client.get(client.get(f"/results?q={variants[0]}").headers["Location"])
    assert "ALB" in table_column(variant_page.get_data(as_text=True), 0)
