"""indexed files: a data file's coordinate index (tabix, CSI, BAI), for htsget slices

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-03 15:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("data_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data_format", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("index_key", sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column("index_format", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("index_size", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("index_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("index_md5", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_data_files_index_key"), ["index_key"])


def downgrade() -> None:
    with op.batch_alter_table("data_files", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_data_files_index_key"), type_="unique")
        for column in ("index_md5", "index_sha256", "index_size", "index_format",
                       "index_key", "data_format"):
            batch_op.drop_column(column)
