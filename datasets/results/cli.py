"""``flask results ...``: load open results files (eQTLs, median expression), all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from access.identity.actor import OPERATOR
from core.web.request_scope import clock, session_factory
from datasets.errors import ResultsRejected
from datasets.results.loading import ImportSummary, Progress, import_eqtls, import_expression

results_cli = AppGroup("results", help="Open results: eQTL summary statistics and median TPM.")
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@results_cli.command("import-eqtls")
@click.argument("file", type=_FILE)
@click.option("--tissue", help="The tissue of a GTEx per-tissue file (*.signif_variant_gene_pairs"
              ".txt.gz), which has no tissue column.")
def import_eqtls_command(file: Path, tissue: str | None) -> None:
    """Load the significant eQTL pairs in FILE (tab-separated, gzip or plain).

    Columns are found by name: gene_id, variant_id, tss_distance, maf, pval_nominal, slope
    and slope_se are required; gene_name, tissue and qval are read when present. Loading a
    tissue replaces the eQTLs loaded for it before. Any bad line loads nothing.
    """
    _load(file, lambda session, progress: import_eqtls(
        session, OPERATOR, file, tissue=tissue, now=clock().now(), progress=progress))


@results_cli.command("import-expression")
@click.argument("file", type=_FILE)
@click.option("--kind", type=click.Choice(["gene", "transcript"]), required=True,
              help="gene: columns Name, Description (the symbol), then tissues; transcript: "
              "transcript_id, gene_id, then tissues.")
def import_expression_command(file: Path, kind: str) -> None:
    """Load a median-TPM matrix (GCT 1.2, gzip or plain), one column per tissue.

    It replaces the medians loaded before for its tissues. Any bad line loads nothing.
    """
    _load(file, lambda session, progress: import_expression(
        session, OPERATOR, file, level=kind, now=clock().now(), progress=progress))


def _load(file: Path, load: Callable[[Session, Progress], ImportSummary]) -> None:
    click.echo(f"Loading {file} ...", err=True)
    try:
        with session_factory().begin() as session:
            summary = load(session, _progress)
    except ResultsRejected as rejected:
        click.echo(rejected.message, err=True)
        for problem in rejected.problems:
            click.echo(f"  line {problem.line}: {problem.message}", err=True)
        if rejected.total > len(rejected.problems):
            click.echo(f"  ... and {rejected.total - len(rejected.problems)} more", err=True)
        raise SystemExit(1) from None
    click.echo(f"Loaded {summary.rows:,} rows for {len(summary.tissues)} tissue(s) from "
               f"{file.name} (sha256 {summary.sha256}).")


def _progress(rows: int) -> None:
    click.echo(f"  {rows:,} rows loaded", err=True)
