"""token scopes: what each personal API token may do

Existing tokens were unrestricted, so they get every scope; new ones get what their
creator chose.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

LEGACY_SCOPES = "audit-read catalogue download requests"


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scopes", sa.String(length=200), nullable=False,
                                      server_default=LEGACY_SCOPES))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("scopes")
