"""open results: genes, tissues, transcripts, eQTLs and median TPM per tissue, import log

The eQTL indexes each end in (pval_nominal, id), the order every query pages in, so a gene,
locus or tissue query reads one index range and stops at the page size.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "result_genes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gene_id", sa.String(length=64), nullable=False),
        sa.Column("stable_id", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result_genes")),
        sa.UniqueConstraint("gene_id", name=op.f("uq_result_genes_gene_id")),
    )
    with op.batch_alter_table("result_genes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_result_genes_stable_id"), ["stable_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_result_genes_symbol"), ["symbol"], unique=False)

    op.create_table(
        "result_tissues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result_tissues")),
        sa.UniqueConstraint("name", name=op.f("uq_result_tissues_name")),
    )
    op.create_table(
        "result_transcripts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transcript_id", sa.String(length=64), nullable=False),
        sa.Column("gene_ref", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["gene_ref"], ["result_genes.id"],
                                name=op.f("fk_result_transcripts_gene_ref_result_genes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result_transcripts")),
        sa.UniqueConstraint("transcript_id", name=op.f("uq_result_transcripts_transcript_id")),
    )
    with op.batch_alter_table("result_transcripts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_result_transcripts_gene_ref"), ["gene_ref"],
                              unique=False)

    op.create_table(
        "eqtl_results",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("gene_ref", sa.Integer(), nullable=False),
        sa.Column("tissue_ref", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.String(length=128), nullable=False),
        sa.Column("chrom", sa.String(length=8), nullable=False),
        sa.Column("pos", sa.Integer(), nullable=False),
        sa.Column("tss_distance", sa.Integer(), nullable=False),
        sa.Column("maf", sa.Double(), nullable=False),
        sa.Column("pval_nominal", sa.Double(), nullable=False),
        sa.Column("slope", sa.Double(), nullable=False),
        sa.Column("slope_se", sa.Double(), nullable=False),
        sa.Column("qval", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eqtl_results")),
    )
    with op.batch_alter_table("eqtl_results", schema=None) as batch_op:
        batch_op.create_index("ix_eqtl_results_gene_order", ["gene_ref", "pval_nominal", "id"],
                              unique=False)
        batch_op.create_index("ix_eqtl_results_locus_order",
                              ["chrom", "pos", "pval_nominal", "id"], unique=False)
        batch_op.create_index("ix_eqtl_results_tissue_order",
                              ["tissue_ref", "pval_nominal", "id"], unique=False)

    op.create_table(
        "gene_median_tpm",
        sa.Column("gene_ref", sa.Integer(), nullable=False),
        sa.Column("tissue_ref", sa.Integer(), nullable=False),
        sa.Column("median_tpm", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("gene_ref", "tissue_ref", name=op.f("pk_gene_median_tpm")),
    )
    op.create_table(
        "transcript_median_tpm",
        sa.Column("transcript_ref", sa.Integer(), nullable=False),
        sa.Column("tissue_ref", sa.Integer(), nullable=False),
        sa.Column("median_tpm", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("transcript_ref", "tissue_ref",
                                name=op.f("pk_transcript_median_tpm")),
    )
    op.create_table(
        "result_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("imported_at", core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result_imports")),
    )
    with op.batch_alter_table("result_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_result_imports_sha256"), ["sha256"], unique=False)


def downgrade() -> None:
    op.drop_table("result_imports")
    op.drop_table("transcript_median_tpm")
    op.drop_table("gene_median_tpm")
    op.drop_table("eqtl_results")
    op.drop_table("result_transcripts")
    op.drop_table("result_tissues")
    op.drop_table("result_genes")
