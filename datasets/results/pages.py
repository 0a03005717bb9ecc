"""What each open-results page shows, gathered in one call per page so the views stay thin."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy.orm import Session

from core.errors import DomainError, InvalidInput
from datasets.results.charts import BarChart, Heatmap, bar_chart, heatmap
from datasets.results.ids import Locus, variant_locus
from datasets.results.queries import (
    EqtlCriteria,
    EqtlRow,
    Gene,
    IsoformValue,
    Tissue,
    TissueValue,
    find_gene,
    find_tissue,
    gene_expression,
    isoform_expression,
    sorted_eqtls,
    top_egenes,
)

TABLE_ROWS = 200
TOP_EGENES = 50


@dataclass(frozen=True)
class EqtlTable:
    rows: list[EqtlRow]
    more: bool
    sort: str
    descending: bool


@dataclass(frozen=True)
class GenePage:
    gene: Gene
    expression: list[TissueValue]
    chart: BarChart
    isoforms: list[IsoformValue]
    heatmap: Heatmap
    eqtls: EqtlTable


@dataclass(frozen=True)
class VariantPage:
    text: str
    locus: Locus
    eqtls: EqtlTable


@dataclass(frozen=True)
class TissuePage:
    tissue: Tissue
    leads: list[EqtlRow]


def search(session: Session, text: str) -> tuple[str | None, DomainError | None]:
    """(where to go, or why nowhere) for what someone typed in the search box."""
    text = text.strip()
    if not text:
        return None, None
    try:
        variant_locus(text)
        return f"/results/variants/{quote(text, safe='')}", None
    except ValueError:
        pass
    try:
        return f"/results/genes/{quote(find_gene(session, text).gene_id, safe='')}", None
    except DomainError as error:
        return None, error


def gene_page(session: Session, text: str, *, sort: str, descending: bool) -> GenePage:
    gene = find_gene(session, text)
    expression = gene_expression(session, gene)
    isoforms = isoform_expression(session, gene)
    return GenePage(gene, expression, bar_chart(expression), isoforms, heatmap(isoforms),
                    _table(session, EqtlCriteria(gene=gene.gene_id), sort, descending))


def variant_page(session: Session, text: str, *, sort: str, descending: bool) -> VariantPage:
    try:
        locus = variant_locus(text)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return VariantPage(text, locus, _table(session, EqtlCriteria(locus=locus), sort, descending))


def tissue_page(session: Session, name: str) -> TissuePage:
    return TissuePage(find_tissue(session, name), top_egenes(session, name, limit=TOP_EGENES))


def _table(session: Session, criteria: EqtlCriteria, sort: str, descending: bool) -> EqtlTable:
    rows, more = sorted_eqtls(session, criteria, sort=sort, descending=descending,
                              limit=TABLE_ROWS)
    return EqtlTable(rows, more, sort, descending)
