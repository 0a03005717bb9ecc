"""passport grants: dataset access conferred by trusted brokers' GA4GH visas at sign-in

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 16:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "passport_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=512), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("jti", sa.String(length=255), nullable=True),
        sa.Column("visa_hash", sa.String(length=64), nullable=False),
        sa.Column("asserted_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("recorded_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_passport_grants_dataset_id_datasets")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_passport_grants_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passport_grants")),
        sa.UniqueConstraint(
            "user_id", "visa_hash", name=op.f("uq_passport_grants_user_id_visa_hash")
        ),
    )
    with op.batch_alter_table("passport_grants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_passport_grants_dataset_id"), ["dataset_id"], unique=False
        )
        batch_op.create_index(
            "ix_passport_grants_user_dataset", ["user_id", "dataset_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("passport_grants")
