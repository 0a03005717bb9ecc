"""The open-results JSON API under /api/v1: eQTLs and median expression, no sign-in needed.

``format=tsv`` (or ``csv``) on any route downloads the same rows as a file, every page of
them, streamed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence

from flask import Blueprint, Response, jsonify

from core.web.api import parse_query
from core.web.api_docs import documented
from core.web.request_scope import db_session, session_factory
from datasets.results.queries import (
    EqtlCriteria,
    eqtl_download,
    eqtl_page,
    find_gene,
    gene_expression,
    isoform_expression,
    suggest_genes,
)
from datasets.results.schemas import (
    DownloadQuery,
    EqtlOut,
    EqtlPageOut,
    EqtlQuery,
    GeneExpressionOut,
    GeneOut,
    GeneSuggestionQuery,
    GeneSuggestionsOut,
    IsoformExpressionOut,
    IsoformValueOut,
    TissueValueOut,
    encode_cursor,
)

api = Blueprint("results_api", __name__, url_prefix="/api/v1")
EQTL_COLUMNS = ("gene_id", "gene_name", "variant_id", "tissue", "tss_distance", "maf",
                "pval_nominal", "slope", "slope_se", "qval")
eqtls_out = EqtlOut(many=True)
MEDIA_TYPES = {"tsv": "text/tab-separated-values; charset=utf-8",
               "csv": "text/csv; charset=utf-8"}


DOWNLOADS = ("text/tab-separated-values", "text/csv")


@api.get("/eqtls")
@documented("eQTLs by gene, variant and/or tissue (open results)", query=EqtlQuery,
            response=EqtlPageOut, public=True, media_types=DOWNLOADS)
def eqtls() -> Response:
    query = parse_query(EqtlQuery())
    criteria = query["criteria"]
    if query["format"] != "json":
        rows = eqtl_download(db_session(), criteria, session_factory())
        return download(query["format"], _eqtl_filename(criteria), EQTL_COLUMNS,
                        (row[:len(EQTL_COLUMNS)] for row in rows))
    page = eqtl_page(db_session(), criteria, after=query["after"], limit=query["limit"])
    # Dicts, not the rows themselves: marshmallow reads a key far faster than an attribute.
    return jsonify({"eqtls": eqtls_out.dump([row._asdict() for row in page.rows]),
                    "next_cursor": encode_cursor(page.next_after)})


@api.get("/genes/suggestions")
@documented("Genes whose symbol starts with, then contains, what was typed (open results)",
            query=GeneSuggestionQuery, response=GeneSuggestionsOut, public=True,
            description="For a search box: case does not matter; the substring match starts "
            "at three characters; at most `limit` genes (default 10, at most 20).")
def gene_suggestions() -> Response:
    query = parse_query(GeneSuggestionQuery())
    genes = suggest_genes(db_session(), query["q"], limit=query["limit"])
    return jsonify(GeneSuggestionsOut().dump({"genes": genes}))


@api.get("/expression/genes/<gene>")
@documented("A gene's median expression (TPM) per tissue (open results)", query=DownloadQuery,
            response=GeneExpressionOut, public=True, media_types=DOWNLOADS)
def expression(gene: str) -> Response:
    fmt = parse_query(DownloadQuery())["format"]
    found = find_gene(db_session(), gene)
    values = gene_expression(db_session(), found)
    if fmt != "json":
        return download(fmt, f"{found.label}_median_tpm",
                        ("gene_id", "gene_name", "tissue", "median_tpm"),
                        ((found.gene_id, found.symbol, *value) for value in values))
    return jsonify({"gene": GeneOut().dump(found),
                    "expression": TissueValueOut(many=True).dump(values)})


@api.get("/expression/genes/<gene>/isoforms")
@documented("A gene's isoforms' median expression per tissue (open results)",
            query=DownloadQuery, response=IsoformExpressionOut, public=True,
            media_types=DOWNLOADS)
def isoforms(gene: str) -> Response:
    fmt = parse_query(DownloadQuery())["format"]
    found = find_gene(db_session(), gene)
    values = isoform_expression(db_session(), found)
    if fmt != "json":
        return download(fmt, f"{found.label}_isoform_median_tpm",
                        ("transcript_id", "gene_id", "tissue", "median_tpm"),
                        ((value.transcript_id, found.gene_id, value.tissue, value.median_tpm)
                         for value in values))
    return jsonify({"gene": GeneOut().dump(found),
                    "isoforms": IsoformValueOut(many=True).dump(values)})


def download(fmt: str, stem: str, header: Sequence[str], rows: Iterable[Sequence[object]]
             ) -> Response:
    filename = re.sub(r"[^A-Za-z0-9._-]+", "_", stem)[:100] + f".{fmt}"
    return Response(_lines(header, rows, "\t" if fmt == "tsv" else ","),
                    content_type=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _lines(header: Sequence[str], rows: Iterable[Sequence[object]], delimiter: str
           ) -> Iterator[str]:
    """A header, then the rows in chunks; floats print as Python's shortest exact form."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    for number, row in enumerate(rows, start=1):
        writer.writerow(["" if value is None else value for value in row])
        if number % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _eqtl_filename(criteria: EqtlCriteria) -> str:
    locus = criteria.locus
    variant = locus and (locus.variant_id or f"{locus.chrom}_{locus.pos}")
    return "_".join(["eqtls", *(p for p in (criteria.gene, variant, criteria.tissue) if p)])
