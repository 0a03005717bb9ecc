"""audit: drop the chain-head row; appends are ordered by a lock (audit/services.py)

Appends take a transaction-scoped advisory lock on PostgreSQL (SQLite: its write lock) and
read the last event, so no audit row is ever updated and the app's role needs only INSERT
and SELECT on every audit table (benchmarks/README.md has the measurements behind it).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64


def upgrade() -> None:
    op.drop_table("audit_chain_head")


def downgrade() -> None:
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    # The head the older code expects: the last event, or the genesis of an empty log.
    op.execute(
        "INSERT INTO audit_chain_head (id, seq, hash) "
        f"SELECT 1, COALESCE(MAX(seq), 0), COALESCE((SELECT hash FROM audit_events "
        f"ORDER BY seq DESC LIMIT 1), '{GENESIS_HASH}') FROM audit_events"
    )
