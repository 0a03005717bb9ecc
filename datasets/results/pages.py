"""What each open-results page shows, gathered in one call per page so the views stay thin."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy.orm import Session

from core.errors import DomainError, InvalidInput
from datasets.results.charts import BarChart, Heatmap, bar_chart, heatmap
from datasets.results.ids import Locus, is_gene_symbol, variant_locus
from datasets.results.queries import (
    EqtlCriteria,
    EqtlRow,
    Gene,
    IsoformValue,
    Tissue,
    TissueValue,
    find_gene,
    find_symbols,
    find_tissue,
    gene_expression,
    isoform_expression,
    lead_variant,
    sorted_eqtls,
    suggest_genes,
    top_egenes,
)

TABLE_ROWS = 200
SUGGESTIONS = 20
EXAMPLE_GENES = ("ALB", "TP53", "APOE", "CFTR")
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


@dataclass(frozen=True)
class SearchAnswer:
    """Where a search goes, or what the search page shows instead: genes whose symbol
    starts with or contains what was typed, or why nothing matched."""

    target: str | None = None
    problem: DomainError | None = None
    suggestions: tuple[Gene, ...] = ()


def search(session: Session, text: str) -> SearchAnswer:
    text = text.strip()
    if not text:
        return SearchAnswer()
    try:
        variant_locus(text)
        return SearchAnswer(target=f"/results/variants/{quote(text, safe='')}")
    except ValueError:
        pass
    try:
        gene_id = find_gene(session, text).gene_id
        return SearchAnswer(target=f"/results/genes/{quote(gene_id, safe='')}")
    except DomainError as error:
        problem = error
    suggestions: list[Gene] = []
    if is_gene_symbol(text):
        suggestions = suggest_genes(session, text, limit=SUGGESTIONS)
    return SearchAnswer(problem=None if suggestions else problem,
                        suggestions=tuple(suggestions))


@dataclass(frozen=True)
class Example:
    query: str
    says: str


def search_examples(session: Session) -> list[Example]:
    """Searches to try, from what is loaded: named genes, a partial name, a gene's lead
    variant. Two queries, both on indexes."""
    genes = {gene.symbol: gene for gene in find_symbols(session, EXAMPLE_GENES)}
    examples = [Example(symbol, "a gene") for symbol in EXAMPLE_GENES if symbol in genes]
    if examples:
        first = genes[examples[0].query]
        examples.append(Example(first.gene_id.split(".", 1)[0], "the same gene by its Ensembl id"))
        examples.append(Example(examples[0].query[:2], "part of a name"))
        lead = lead_variant(session, first)
        if lead is not None:
            examples.append(Example(lead, f"the variant with {first.label}'s strongest eQTL"))
    return examples


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
