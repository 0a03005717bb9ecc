"""retired files: a file taken out of circulation stays in the catalogue, with when

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("data_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retired_at", core.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("data_files", schema=None) as batch_op:
        batch_op.drop_column("retired_at")
