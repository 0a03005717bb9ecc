"""user sessions: server-side records behind the session cookie, so sign-out ends it

Revision ID: 0011
Revises: 0012
Create Date: 2026-12-03 15:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0011"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("ended_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("ended_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_user_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("id_hash", name=op.f("uq_user_sessions_id_hash")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_user_sessions_user_live", ["user_id", "ended_at"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("user_sessions")
