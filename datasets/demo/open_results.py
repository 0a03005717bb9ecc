"""Loading the demo study's open results, so ``make demo`` has eQTLs and expression to browse."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from access.identity.actor import Actor
from datasets.catalogue.checksums import digest, file_chunks
from datasets.results.loading import already_imported, import_eqtls, import_expression

# Gene medians first: they name each gene's symbol before the eQTLs refer to it.
GENE_MEDIANS = "open/GTEx_demo.gene_median_tpm.gct.gz"
TRANSCRIPT_MEDIANS = "open/GTEx_demo.transcript_median_tpm.gct.gz"
EQTLS = "open/GTEx_demo.eqtl_signif_pairs.txt.gz"


def load_demo_results(session: Session, actor: Actor, directory: Path, *, now: datetime) -> None:
    """Loads each open file of the demo study written under ``directory``, unless a file with
    the same checksum was loaded before (the demo study is the same bytes on every run)."""
    for relative in (GENE_MEDIANS, TRANSCRIPT_MEDIANS, EQTLS):
        path = directory / relative
        if already_imported(session, digest(file_chunks(path)).sha256):
            continue
        if relative == EQTLS:
            import_eqtls(session, actor, path, tissue=None, now=now)
        else:
            level = "gene" if relative == GENE_MEDIANS else "transcript"
            import_expression(session, actor, path, level=level, now=now)
