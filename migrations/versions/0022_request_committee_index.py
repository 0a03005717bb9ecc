"""request committees: which committees a request's parts wait for, probed by request

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 22:20:00.000000

The queues (review.review_queue, review.committee_queue) start from the few requests in
review (ix_access_requests_state) and ask of each whether one of its parts is the
committee's. Joined the other way round, they hashed the committee's whole history of
parts, which grows with every request it ever saw (10,020 rows at full size in
benchmarks/scale.py). This index answers the question per request from the index alone.
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_requested_datasets_request_committee", "requested_datasets",
                    ["request_id", "committee_id"])


def downgrade() -> None:
    op.drop_index("ix_requested_datasets_request_committee", table_name="requested_datasets")
