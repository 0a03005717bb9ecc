"""invitations: people known by email before their first sign-in, and whether the
provider verified a user's email

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-04 21:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_verified", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("invitation", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("invited_issuer", sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column("invited_at", core.db.UTCDateTime(), nullable=True))
        batch_op.create_index("ix_users_invitation_email", ["invitation", "email"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_invitation_email")
        for column in ("invited_at", "invited_issuer", "invitation", "email_verified"):
            batch_op.drop_column(column)
