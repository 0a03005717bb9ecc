"""gene symbol keys: suggestions for a partial gene name from one index range scan

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 01:00:00.000000

Each gene gets its symbol upper-cased in a column compared byte by byte (collation "C" on
PostgreSQL; SQLite compares bytes anyway), filled here for genes already loaded.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

SYMBOL_KEY = sa.String(64).with_variant(sa.String(64, collation="C"), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("result_genes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("symbol_key", SYMBOL_KEY, nullable=True))
    op.execute("UPDATE result_genes SET symbol_key = upper(symbol)")
    op.create_index("ix_result_genes_symbol_key", "result_genes", ["symbol_key"])


def downgrade() -> None:
    op.drop_index("ix_result_genes_symbol_key", table_name="result_genes")
    with op.batch_alter_table("result_genes", schema=None) as batch_op:
        batch_op.drop_column("symbol_key")
