"""Tables of the open results: eQTL summary statistics and median expression per tissue.

These tables hold only summary values anyone may download; nothing in them points at a
donor, a sample or a controlled file. Genes, tissues and transcripts are small lookup
tables, so the large fact tables carry integer references instead of repeated strings.

The fact tables have no foreign keys on purpose: the importer is their only writer and
resolves every reference itself, and PostgreSQL would otherwise queue a trigger event per
row for tens of millions of rows loaded in one transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Double, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime

SYMBOL_KEY = String(64).with_variant(String(64, collation="C"), "postgresql")


class ResultGene(Base):
    __tablename__ = "result_genes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gene_id: Mapped[str] = mapped_column(String(64), unique=True)  # versioned: ENSG….16
    stable_id: Mapped[str] = mapped_column(String(64), index=True)  # without the version
    symbol: Mapped[str | None] = mapped_column(String(64), index=True)
    # The symbol upper-cased, compared byte by byte (C collation on PostgreSQL, SQLite's
    # default), so what someone types is one index range scan on either database.
    symbol_key: Mapped[str | None] = mapped_column(SYMBOL_KEY, index=True)


class ResultTissue(Base):
    __tablename__ = "result_tissues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class ResultTranscript(Base):
    __tablename__ = "result_transcripts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transcript_id: Mapped[str] = mapped_column(String(64), unique=True)
    gene_ref: Mapped[int] = mapped_column(ForeignKey("result_genes.id"), index=True)


class EqtlResult(Base):
    """One significant variant-gene pair in one tissue.

    Every query pages in (pval_nominal, id) order after an equality on its gene, locus or
    tissue, so each of those has one composite index ending in exactly that order.
    """

    __tablename__ = "eqtl_results"
    __table_args__ = (
        Index("ix_eqtl_results_gene_order", "gene_ref", "pval_nominal", "id"),
        Index("ix_eqtl_results_locus_order", "chrom", "pos", "pval_nominal", "id"),
        Index("ix_eqtl_results_tissue_order", "tissue_ref", "pval_nominal", "id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    gene_ref: Mapped[int] = mapped_column(Integer)
    tissue_ref: Mapped[int] = mapped_column(Integer)
    variant_id: Mapped[str] = mapped_column(String(128))
    chrom: Mapped[str] = mapped_column(String(8))
    pos: Mapped[int] = mapped_column(Integer)
    tss_distance: Mapped[int] = mapped_column(Integer)
    maf: Mapped[float] = mapped_column(Double)
    pval_nominal: Mapped[float] = mapped_column(Double)
    slope: Mapped[float] = mapped_column(Double)
    slope_se: Mapped[float] = mapped_column(Double)
    qval: Mapped[float | None] = mapped_column(Double)


class GeneMedianTpm(Base):
    __tablename__ = "gene_median_tpm"

    gene_ref: Mapped[int] = mapped_column(Integer, primary_key=True)
    tissue_ref: Mapped[int] = mapped_column(Integer, primary_key=True)
    median_tpm: Mapped[float] = mapped_column(Double)


class TranscriptMedianTpm(Base):
    __tablename__ = "transcript_median_tpm"

    transcript_ref: Mapped[int] = mapped_column(Integer, primary_key=True)
    tissue_ref: Mapped[int] = mapped_column(Integer, primary_key=True)
    median_tpm: Mapped[float] = mapped_column(Double)


class ResultImport(Base):
    """One loaded file, so the demo can tell a file it already loaded by its checksum."""

    __tablename__ = "result_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    source_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    rows: Mapped[int] = mapped_column(BigInteger)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
