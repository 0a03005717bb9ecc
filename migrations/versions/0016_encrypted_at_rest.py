"""encrypted at rest: research-use statements, summaries, contact emails and the outbox

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-04 22:00:00.000000

Existing rows are encrypted in place with the data key of the engine running the migration
(``flask db upgrade`` has it from the settings); a downgrade decrypts them again. Emails and
names become TEXT: a ciphertext is longer than the 320 characters an address may have.
Users' emails, searched by value (invitations), get a lookup hash beside them and the
invitation index moves to it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.field_encryption import (
    DataKeyError,
    EncryptedColumn,
    data_keys_of,
    rewrite_column,
)

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None

COLUMNS = {
    "access_requests": (
        "research_use_statement",
        "non_technical_summary",
        "cloud_use_statement",
        "it_director_name",
        "it_director_email",
        "close_out_statement",
        "progress_report",
    ),
    "users": ("email",),
    "outbox_emails": ("to_address", "body"),
}
# Columns that were VARCHAR before: (table, column, length).
NARROW = (
    ("access_requests", "it_director_name", 255),
    ("access_requests", "it_director_email", 320),
    ("users", "email", 320),
    ("outbox_emails", "to_address", 320),
)


def _rewrite(*, encrypting: bool) -> None:
    connection = op.get_bind()
    targets = [
        EncryptedColumn(table, name, "email_lookup" if name == "email" else None)
        for table, names in COLUMNS.items()
        for name in names
    ]
    if not any(
        connection.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first()  # noqa: S608
        for table in COLUMNS
    ):
        return  # a fresh database: nothing to rewrite, no key needed
    try:
        keys = data_keys_of(connection.dialect)
    except DataKeyError:
        raise DataKeyError(
            "rows exist to encrypt or decrypt: run this migration with "
            "`flask db upgrade`, which has the data key"
        ) from None
    for target in targets:
        rewrite_column(connection, target, keys, encrypting=encrypting, decrypting=not encrypting)


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_lookup", sa.String(length=64), nullable=True))
        batch_op.drop_index("ix_users_invitation_email")
        batch_op.create_index(
            "ix_users_invitation_email_lookup", ["invitation", "email_lookup"], unique=False
        )
    for table, name, length in NARROW:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(name, existing_type=sa.String(length=length), type_=sa.Text())
    _rewrite(encrypting=True)


def downgrade() -> None:
    _rewrite(encrypting=False)
    for table, name, length in NARROW:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(name, existing_type=sa.Text(), type_=sa.String(length=length))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_invitation_email_lookup")
        batch_op.create_index("ix_users_invitation_email", ["invitation", "email"], unique=False)
        batch_op.drop_column("email_lookup")
