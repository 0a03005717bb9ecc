"""Loading open results files: streamed in batches, all of a file or none of it.

The whole import runs in the caller's transaction. The first bad line stops the writing but
not the reading, so the report lists the bad lines of the whole file (up to a limit) and the
caller's rollback leaves nothing behind. Loading a tissue replaces what was loaded for that
tissue before, so a corrected or newer release of a file is simply imported again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from audit.log.actions import AuditAction
from audit.log.append import record_event
from datasets.errors import ResultsRejected
from datasets.results.bulk import bulk_insert, refresh_statistics
from datasets.results.formats import (
    EqtlRecord,
    GctHeader,
    GctRow,
    RowProblem,
    eqtl_records,
    gct_records,
)
from datasets.results.models import EqtlResult, GeneMedianTpm, ResultImport, TranscriptMedianTpm
from datasets.results.references import References
from datasets.results.source import Source, UnreadableSource, open_source

BATCH_ROWS = 10_000
PROGRESS_EVERY = 100_000
REPORTED_PROBLEMS = 50
Progress = Callable[[int], None]
Record = TypeVar("Record")
EQTL_COLUMNS = ("gene_ref", "tissue_ref", "variant_id", "chrom", "pos", "tss_distance", "maf",
                "pval_nominal", "slope", "slope_se", "qval")


class ResultKind(StrEnum):
    EQTLS = "eqtls"
    GENE_EXPRESSION = "gene_expression"
    TRANSCRIPT_EXPRESSION = "transcript_expression"


@dataclass(frozen=True)
class ImportSummary:
    kind: ResultKind
    source_name: str
    sha256: str
    rows: int
    tissues: tuple[str, ...]


def import_eqtls(
    session: Session, actor: Actor, path: Path, *, tissue: str | None, now: datetime,
    progress: Progress | None = None,
) -> ImportSummary:
    """Raises ResultsRejected, naming the bad lines, if any line of the file is malformed."""
    references = References(session)
    replaced: dict[str, int] = {}

    def write(records: list[EqtlRecord]) -> None:
        genes = references.genes((r.gene_id, r.gene_name) for r in records)
        tissues = references.tissues(r.tissue for r in records)
        _replace_tissues(session, EqtlResult, set(tissues.values()) - set(replaced.values()))
        replaced.update(tissues)
        bulk_insert(session, EqtlResult, EQTL_COLUMNS, [
            (genes[r.gene_id], tissues[r.tissue], r.variant_id, r.chrom, r.pos, r.tss_distance,
             r.maf, r.pval_nominal, r.slope, r.slope_se, r.qval) for r in records])

    with open_source(path) as source:
        rows = _load(source, eqtl_records(source.lines(), tissue), write, progress)
        return _record(session, actor, ResultKind.EQTLS, source, rows, tuple(replaced), now)


def import_expression(
    session: Session, actor: Actor, path: Path, *, level: str, now: datetime,
    progress: Progress | None = None,
) -> ImportSummary:
    """A median-TPM GCT of genes or transcripts (level); replaces its tissues' medians."""
    references = References(session)
    model = GeneMedianTpm if level == "gene" else TranscriptMedianTpm
    tissues: dict[str, int] = {}

    def write(rows: list[GctRow]) -> None:
        if level == "gene":
            refs = references.genes((r.row_id, r.second_id) for r in rows)
        else:
            genes = references.genes((r.second_id, None) for r in rows)
            refs = references.transcripts({r.row_id: genes[r.second_id] for r in rows})
        bulk_insert(session, model, (_ID_COLUMN[level], "tissue_ref", "median_tpm"),
                    [(refs[r.row_id], tissue, value) for r in rows
                     for tissue, value in zip(tissues.values(), r.values, strict=True)])

    def rows_of(items: Iterator[GctHeader | GctRow | RowProblem]) -> Iterator[GctRow | RowProblem]:
        """Takes the header's tissues (clearing their old medians) and refuses repeated ids."""
        seen: dict[str, int] = {}
        for item in items:
            if isinstance(item, GctHeader):
                refs = references.tissues(item.tissues)
                tissues.update((name, refs[name]) for name in item.tissues)  # in file order
                _replace_tissues(session, model, set(tissues.values()))
            elif isinstance(item, GctRow) and item.row_id in seen:
                yield RowProblem(item.line, f"{item.row_id} is already on line {seen[item.row_id]}")
            else:
                if isinstance(item, GctRow):
                    seen[item.row_id] = item.line
                yield item

    kind = ResultKind.GENE_EXPRESSION if level == "gene" else ResultKind.TRANSCRIPT_EXPRESSION
    with open_source(path) as source:
        rows = _load(source, rows_of(gct_records(source.lines(), level)), write, progress)
        return _record(session, actor, kind, source, rows, tuple(tissues), now)


_ID_COLUMN = {"gene": "gene_ref", "transcript": "transcript_ref"}


def already_imported(session: Session, sha256: str) -> bool:
    return session.scalar(select(ResultImport.id).where(ResultImport.sha256 == sha256)
                          .limit(1)) is not None


def _load(
    source: Source, items: Iterator[Record | RowProblem], write: Callable[[list[Record]], None],
    progress: Progress | None,
) -> int:
    """Feeds records to write() in batches; raises ResultsRejected if any item is a problem."""
    problems: list[RowProblem] = []
    total = rows = reported = 0
    batch: list[Record] = []
    try:
        for item in items:
            if isinstance(item, RowProblem):
                total += 1
                if len(problems) < REPORTED_PROBLEMS:
                    problems.append(item)
            elif not total:
                batch.append(item)
                if len(batch) == BATCH_ROWS:
                    write(batch)
                    rows, batch = rows + len(batch), []
                    if progress and rows - reported >= PROGRESS_EVERY:
                        progress(reported := rows)
    except UnreadableSource as unreadable:
        total += 1
        problems.append(RowProblem(unreadable.line, unreadable.message))
    if total:
        raise ResultsRejected(source.name, problems, total)
    if batch:
        write(batch)
    return rows + len(batch)


def _replace_tissues(
    session: Session, model: type[EqtlResult | GeneMedianTpm | TranscriptMedianTpm],
    tissues: set[int],
) -> None:
    if tissues:
        session.execute(delete(model).where(model.tissue_ref.in_(sorted(tissues))))


def _record(
    session: Session, actor: Actor, kind: ResultKind, source: Source, rows: int,
    tissues: tuple[str, ...], now: datetime,
) -> ImportSummary:
    """The import log row and its audit event, in the import's own transaction."""
    model = {ResultKind.EQTLS: EqtlResult, ResultKind.GENE_EXPRESSION: GeneMedianTpm,
             ResultKind.TRANSCRIPT_EXPRESSION: TranscriptMedianTpm}[kind]
    refresh_statistics(session, model)
    summary = ImportSummary(kind, source.name, source.sha256, rows, tuple(sorted(tissues)))
    logged = ResultImport(kind=kind.value, source_name=source.name[:255], sha256=summary.sha256,
                          rows=rows, imported_at=now)
    session.add(logged)
    session.flush()
    record_event(session, actor.audit(), AuditAction.RESULTS_IMPORT, now=now,
                 target_type="result_import", target_id=logged.id,
                 details={"kind": kind.value, "file": summary.source_name,
                          "sha256": summary.sha256, "rows": rows,
                          "tissues": list(summary.tissues)})
    return summary
