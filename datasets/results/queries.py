"""Reading the open results: genes, eQTL pages and downloads, median expression.

These functions read only the results tables (results_models.py), never the catalogue's
files or anything of the controlled tier, so nothing individual-level can reach an
open response through them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, or_, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from core.errors import InvalidInput, NotFound
from datasets.results.ids import (
    Locus,
    is_ensembl_gene_id,
    is_gene_symbol,
    stable_gene_id,
    symbol_key,
)
from datasets.results.models import (
    EqtlResult,
    GeneMedianTpm,
    ResultGene,
    ResultTissue,
    ResultTranscript,
    TranscriptMedianTpm,
)

DOWNLOAD_BATCH = 5_000
EqtlSelect = Select[*tuple[Any, ...]]
After = tuple[float, int]  # the (pval_nominal, id) of the last row of the previous page


class Gene(NamedTuple):
    ref: int
    gene_id: str
    symbol: str | None

    @property
    def label(self) -> str:
        return self.symbol or self.gene_id


class Tissue(NamedTuple):
    ref: int
    name: str


class EqtlRow(NamedTuple):
    gene_id: str
    gene_name: str | None
    variant_id: str
    tissue: str
    tss_distance: int
    maf: float
    pval_nominal: float
    slope: float
    slope_se: float
    qval: float | None
    id: int


@dataclass(frozen=True)
class EqtlCriteria:
    """What a client asked for, before the gene and tissue names are looked up."""

    gene: str | None = None
    locus: Locus | None = None
    tissue: str | None = None
    max_pval: float | None = None
    max_qval: float | None = None


@dataclass(frozen=True)
class EqtlPage:
    rows: list[EqtlRow]
    next_after: After | None


def find_gene(session: Session, text: str) -> Gene:
    """One gene by symbol or Ensembl id (with or without version); 404 if none, 400 if several."""
    if is_ensembl_gene_id(text):
        column = ResultGene.gene_id if "." in text else ResultGene.stable_id
        condition = column.in_({text, text.upper()} if "." in text else {stable_gene_id(text)})
    elif is_gene_symbol(text):
        condition = ResultGene.symbol.in_({text, text.upper()})
    else:
        raise InvalidInput(f"{text[:80]!r} is neither a gene symbol nor an Ensembl gene id.",
                           details={"gene": ["Give a symbol like TP53 or an id like "
                                             "ENSG00000141510(.16)."]})
    genes = [Gene(*row) for row in session.execute(
        select(ResultGene.id, ResultGene.gene_id, ResultGene.symbol).where(condition)
        .order_by(ResultGene.gene_id).limit(10))]
    if not genes:
        raise NotFound(f"No gene {text!r} in the open results.")
    if len(genes) > 1:
        raise InvalidInput(f"{text!r} names {len(genes)} genes; ask for one by its Ensembl id.",
                           details={"candidates": [gene.gene_id for gene in genes]})
    return genes[0]


def suggest_genes(session: Session, text: str, *, limit: int) -> list[Gene]:
    """Genes whose symbol starts with ``text`` (any case), then, from three characters on,
    those that contain it further in: for a partial name typed into the search box.

    The prefix is one range scan of the byte-ordered symbol_key index. The substring match
    cannot use an index; it reads only the gene lookup table (GTEx has about 56,000 genes,
    no eQTL row) and stops at ``limit``.
    """
    key = symbol_key(text) or ""
    if not is_gene_symbol(key):
        raise InvalidInput(f"{text[:80]!r} cannot be part of a gene symbol.",
                           details={"q": ["Letters, digits and . _ - / @ only, like TP5 or ALB."]})
    # The first key after every key that starts with ``key``: the prefix's last
    # character, plus one (symbols are ASCII, so the next byte is the next character).
    after = key[:-1] + chr(ord(key[-1]) + 1)
    columns = select(ResultGene.id, ResultGene.gene_id, ResultGene.symbol)
    found = [Gene(*row) for row in session.execute(
        columns.where(ResultGene.symbol_key >= key, ResultGene.symbol_key < after)
        .order_by(ResultGene.symbol_key, ResultGene.gene_id).limit(limit))]
    if len(found) < limit and len(key) >= MIN_SUBSTRING:
        found += [Gene(*row) for row in session.execute(
            columns.where(ResultGene.symbol_key.contains(key, autoescape=True),
                          or_(ResultGene.symbol_key < key, ResultGene.symbol_key >= after))
            .order_by(ResultGene.symbol_key, ResultGene.gene_id).limit(limit - len(found)))]
    return found


def find_symbols(session: Session, symbols: Sequence[str]) -> list[Gene]:
    return [Gene(*row) for row in session.execute(
        select(ResultGene.id, ResultGene.gene_id, ResultGene.symbol)
        .where(ResultGene.symbol.in_(symbols)).order_by(ResultGene.gene_id))]


def lead_variant(session: Session, gene: Gene) -> str | None:
    """The variant of the gene's strongest eQTL in any tissue (ix_eqtl_results_gene_order)."""
    return session.scalar(select(EqtlResult.variant_id).where(EqtlResult.gene_ref == gene.ref)
                          .order_by(*_ORDER).limit(1))


MIN_SUBSTRING = 3  # shorter fragments are inside too many symbols to help anyone


def find_tissue(session: Session, name: str) -> Tissue:
    found = session.execute(select(ResultTissue.id, ResultTissue.name)
                            .where(ResultTissue.name == name)).first()
    if found is None:
        raise NotFound(f"No tissue {name[:100]!r} in the open results.",
                       details={"tissues": list_tissues(session)})
    return Tissue(*found)


def list_tissues(session: Session) -> list[str]:
    return list(session.scalars(select(ResultTissue.name).order_by(ResultTissue.name)))


def eqtl_page(session: Session, criteria: EqtlCriteria, *, after: After | None, limit: int
              ) -> EqtlPage:
    rows = list(_rows(session, _eqtl_query(session, criteria), after=after, limit=limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return EqtlPage(rows, (rows[-1].pval_nominal, rows[-1].id) if more else None)


def eqtl_download(
    session: Session, criteria: EqtlCriteria, reader: sessionmaker[Session]
) -> Iterator[EqtlRow]:
    """Every matching row. Names are looked up now, in ``session``, so a 404 comes before the
    first byte; the rows are then read in a session of the download's own, page by page."""
    query = _eqtl_query(session, criteria)

    def stream() -> Iterator[EqtlRow]:
        with reader() as own:
            yield from _each(own, query)

    return stream()


def sorted_eqtls(session: Session, criteria: EqtlCriteria, *, sort: str, descending: bool,
                 limit: int) -> tuple[list[EqtlRow], bool]:
    """The first rows in a page's chosen order, and whether more rows match."""
    keys = [key.desc() if descending else key.asc() for key in SORT_KEYS[sort]]
    rows = [EqtlRow(*row) for row in session.execute(
        _eqtl_query(session, criteria).order_by(*keys, EqtlResult.id).limit(limit + 1))]
    return rows[:limit], len(rows) > limit


def top_egenes(session: Session, tissue: str, *, limit: int) -> list[EqtlRow]:
    """Each gene's lead pair in a tissue, strongest first: the tissue's rows in p-value order,
    keeping the first of each gene, so it reads only as far as the last gene it shows."""
    leads: dict[str, EqtlRow] = {}
    for row in _each(session, _eqtl_query(session, EqtlCriteria(tissue=tissue))):
        leads.setdefault(row.gene_id, row)
        if len(leads) == limit:
            break
    return list(leads.values())


class TissueValue(NamedTuple):
    tissue: str
    median_tpm: float


class IsoformValue(NamedTuple):
    transcript_id: str
    tissue: str
    median_tpm: float


def gene_expression(session: Session, gene: Gene) -> list[TissueValue]:
    return [TissueValue(*row) for row in session.execute(
        select(ResultTissue.name, GeneMedianTpm.median_tpm)
        .join(ResultTissue, ResultTissue.id == GeneMedianTpm.tissue_ref)
        .where(GeneMedianTpm.gene_ref == gene.ref).order_by(ResultTissue.name))]


def isoform_expression(session: Session, gene: Gene) -> list[IsoformValue]:
    return [IsoformValue(*row) for row in session.execute(
        select(ResultTranscript.transcript_id, ResultTissue.name, TranscriptMedianTpm.median_tpm)
        .join(TranscriptMedianTpm, TranscriptMedianTpm.transcript_ref == ResultTranscript.id)
        .join(ResultTissue, ResultTissue.id == TranscriptMedianTpm.tissue_ref)
        .where(ResultTranscript.gene_ref == gene.ref)
        .order_by(ResultTranscript.transcript_id, ResultTissue.name))]


_ORDER = (EqtlResult.pval_nominal, EqtlResult.id)
SORT_KEYS: dict[str, Sequence[Any]] = {
    "pval": [EqtlResult.pval_nominal], "qval": [EqtlResult.qval],
    "slope": [EqtlResult.slope], "maf": [EqtlResult.maf],
    "tss_distance": [EqtlResult.tss_distance], "tissue": [ResultTissue.name],
    "gene": [ResultGene.symbol, ResultGene.gene_id],
    "variant": [EqtlResult.chrom, EqtlResult.pos, EqtlResult.variant_id],
}


def _each(session: Session, query: EqtlSelect) -> Iterator[EqtlRow]:
    after: After | None = None
    while True:
        rows = list(_rows(session, query, after=after, limit=DOWNLOAD_BATCH))
        yield from rows
        if len(rows) < DOWNLOAD_BATCH:
            return
        after = (rows[-1].pval_nominal, rows[-1].id)


def _rows(session: Session, query: EqtlSelect, *, after: After | None, limit: int
          ) -> Iterator[EqtlRow]:
    """One keyset page: the rows after ``after`` in (pval_nominal, id) order."""
    if after is not None:
        query = query.where(tuple_(EqtlResult.pval_nominal, EqtlResult.id) > tuple_(*after))
    for row in session.execute(query.order_by(*_ORDER).limit(limit)):
        yield EqtlRow(*row)


def _eqtl_query(session: Session, criteria: EqtlCriteria) -> EqtlSelect:
    """The rows' columns and the criteria's conditions; raises if a name is unknown."""
    conditions: list[ColumnElement[bool]] = []
    if criteria.gene is not None:
        conditions.append(EqtlResult.gene_ref == find_gene(session, criteria.gene).ref)
    if criteria.tissue is not None:
        conditions.append(EqtlResult.tissue_ref == find_tissue(session, criteria.tissue).ref)
    if (locus := criteria.locus) is not None:
        conditions += [EqtlResult.chrom == locus.chrom, EqtlResult.pos == locus.pos]
        if locus.variant_id is not None:
            conditions.append(EqtlResult.variant_id == locus.variant_id)
    if not conditions:
        raise InvalidInput("Give a gene, a variant or a tissue.",
                           details={"_schema": ["Give at least one of gene, variant, tissue."]})
    if criteria.max_pval is not None:
        conditions.append(EqtlResult.pval_nominal <= criteria.max_pval)
    if criteria.max_qval is not None:
        conditions.append(EqtlResult.qval <= criteria.max_qval)
    return _EQTL_COLUMNS.where(*conditions)


_EQTL_COLUMNS: EqtlSelect = (
    select(ResultGene.gene_id, ResultGene.symbol, EqtlResult.variant_id, ResultTissue.name,
           EqtlResult.tss_distance, EqtlResult.maf, EqtlResult.pval_nominal, EqtlResult.slope,
           EqtlResult.slope_se, EqtlResult.qval, EqtlResult.id)
    .join_from(EqtlResult, ResultGene, ResultGene.id == EqtlResult.gene_ref)
    .join(ResultTissue, ResultTissue.id == EqtlResult.tissue_ref)
)
