"""Genes, tissues and transcripts an import refers to, created as they first appear.

The lookup tables are small (tens of thousands of genes, a few hundred thousand
transcripts), so an import keeps them in memory and touches the database once per batch
for whatever is new, instead of once per row.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from datasets.results.ids import stable_gene_id, symbol_key
from datasets.results.models import ResultGene, ResultTissue, ResultTranscript


class References:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._genes = {gene_id: (ref, symbol) for ref, gene_id, symbol in session.execute(
            select(ResultGene.id, ResultGene.gene_id, ResultGene.symbol))}
        self._tissues = {name: ref for name, ref in session.execute(
            select(ResultTissue.name, ResultTissue.id))}
        self._transcripts: dict[str, tuple[int, int]] | None = None

    def genes(self, named: Iterable[tuple[str, str | None]]) -> dict[str, int]:
        """Refs of these (gene id, symbol) pairs; a symbol given replaces a known gene's old one."""
        wanted = dict(named)
        new = [{"gene_id": g, "stable_id": stable_gene_id(g), "symbol": s,
                "symbol_key": symbol_key(s)} for g, s in wanted.items() if g not in self._genes]
        if new:
            created = self._session.execute(
                insert(ResultGene).returning(ResultGene.id, ResultGene.gene_id), new)
            symbols = {row["gene_id"]: row["symbol"] for row in new}
            self._genes.update({gene_id: (ref, symbols[gene_id]) for ref, gene_id in created})
        renamed = [{"id": self._genes[g][0], "symbol": s, "symbol_key": symbol_key(s)}
                   for g, s in wanted.items()
                   if s is not None and self._genes[g][1] != s]
        if renamed:
            self._session.execute(update(ResultGene), renamed)
            self._genes.update({g: (self._genes[g][0], s) for g, s in wanted.items()
                                if s is not None})
        return {gene_id: self._genes[gene_id][0] for gene_id in wanted}

    def tissues(self, names: Iterable[str]) -> dict[str, int]:
        wanted = set(names)
        new = [{"name": name} for name in sorted(wanted - self._tissues.keys())]
        if new:
            self._tissues.update({name: ref for name, ref in self._session.execute(
                insert(ResultTissue).returning(ResultTissue.name, ResultTissue.id), new)})
        return {name: self._tissues[name] for name in wanted}

    def transcripts(self, of_gene: dict[str, int]) -> dict[str, int]:
        """Refs of these transcripts, each moved to the gene this file places it in."""
        if self._transcripts is None:
            self._transcripts = {t: (ref, gene) for ref, t, gene in self._session.execute(
                select(ResultTranscript.id, ResultTranscript.transcript_id,
                       ResultTranscript.gene_ref))}
        known = self._transcripts
        new = [{"transcript_id": t, "gene_ref": g} for t, g in of_gene.items() if t not in known]
        if new:
            created = self._session.execute(insert(ResultTranscript).returning(
                ResultTranscript.id, ResultTranscript.transcript_id), new)
            known.update({t: (ref, of_gene[t]) for ref, t in created})
        moved = [{"id": known[t][0], "gene_ref": g} for t, g in of_gene.items()
                 if known[t][1] != g]
        if moved:
            self._session.execute(update(ResultTranscript), moved)
            known.update({t: (known[t][0], g) for t, g in of_gene.items()})
        return {t: known[t][0] for t in of_gene}
