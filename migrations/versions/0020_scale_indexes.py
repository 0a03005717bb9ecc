"""scale indexes: a request's history and the catalogue's file counts, at any size

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 19:30:00.000000

A request page reads the request's own events (target_type, target_id) in chain order, which
no index served: with 5,000,000 events that was a scan of the whole log per page view
(benchmarks/scale.py). The catalogue counts each dataset's live files; a partial index of
them lets PostgreSQL count from the index alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

LIVE = sa.text("retired_at IS NULL")


def upgrade() -> None:
    op.create_index("ix_audit_events_target_seq", "audit_events",
                    ["target_type", "target_id", "seq"])
    op.create_index("ix_data_files_live_dataset_id", "data_files", ["dataset_id"],
                    postgresql_where=LIVE, sqlite_where=LIVE)


def downgrade() -> None:
    op.drop_index("ix_data_files_live_dataset_id", table_name="data_files")
    op.drop_index("ix_audit_events_target_seq", table_name="audit_events")
