"""Pages of the open results, for anyone: search, gene, variant and tissue.

This file lists every page URL of the open results; their JSON API is in results_api.py.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template
from werkzeug.wrappers import Response

from core.web.api import parse_query
from core.web.request_scope import db_session
from datasets.results.pages import (
    gene_page,
    search,
    search_examples,
    tissue_page,
    variant_page,
)
from datasets.results.queries import list_tissues
from datasets.results.schemas import SearchQuery, TableQuery

pages = Blueprint("results", __name__, template_folder="templates", url_prefix="/results")


@pages.get("")
def search_page() -> Response | tuple[str, int]:
    text = parse_query(SearchQuery())["q"]
    answer = search(db_session(), text)
    if answer.target is not None:
        return redirect(answer.target, code=303)
    examples = search_examples(db_session()) if not text.strip() else []
    html = render_template("results/search.html", q=text, answer=answer, examples=examples,
                           tissues=list_tissues(db_session()))
    return html, answer.problem.status if answer.problem else 200


@pages.get("/genes/<gene>")
def gene(gene: str) -> str:
    table = parse_query(TableQuery())
    page = gene_page(db_session(), gene, sort=table["sort"], descending=table["order"] == "desc")
    return render_template("results/gene.html", page=page)


@pages.get("/variants/<variant>")
def variant(variant: str) -> str:
    table = parse_query(TableQuery())
    page = variant_page(db_session(), variant, sort=table["sort"],
                        descending=table["order"] == "desc")
    return render_template("results/variant.html", page=page)


@pages.get("/tissues/<tissue>")
def tissue(tissue: str) -> str:
    return render_template("results/tissue.html", page=tissue_page(db_session(), tissue))
