"""data-use match terms, data-use agreements and their acceptances, the email outbox

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        # Existing datasets name no disease: only DS needs one, and a DS without it abstains.
        batch_op.add_column(sa.Column("duo_disease_ids", sa.JSON(), nullable=False,
                                      server_default=sa.text("'[]'")))

    op.create_table(
        "data_use_agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_data_use_agreements_created_by_id_users")),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"],
                                name=op.f("fk_data_use_agreements_dataset_id_datasets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_use_agreements")),
        sa.UniqueConstraint("dataset_id", "version",
                            name=op.f("uq_data_use_agreements_dataset_id_version")),
    )
    op.create_table(
        "agreement_acceptances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("accepted_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"], ["data_use_agreements.id"],
            name=op.f("fk_agreement_acceptances_agreement_id_data_use_agreements")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_agreement_acceptances_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_acceptances")),
        sa.UniqueConstraint("agreement_id", "user_id",
                            name=op.f("uq_agreement_acceptances_agreement_id_user_id")),
    )
    with op.batch_alter_table("agreement_acceptances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreement_acceptances_user_id"), ["user_id"],
                              unique=False)

    op.create_table(
        "outbox_emails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_emails")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_emails_dedupe_key")),
    )
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_emails_status_due", ["status", "next_attempt_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_emails_status_due")
    op.drop_table("outbox_emails")
    with op.batch_alter_table("agreement_acceptances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_acceptances_user_id"))
    op.drop_table("agreement_acceptances")
    op.drop_table("data_use_agreements")
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.drop_column("duo_disease_ids")
