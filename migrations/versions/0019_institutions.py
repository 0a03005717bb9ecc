"""institutions: records with an optional ROR id and email domains; users and signing
officials linked to them by id

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 01:00:00.000000

The free-text institutions of users (copied from a sign-in claim) and the scopes of
signing officials become one record per distinct text, and both are linked to it by id,
so nothing anybody held is lost. A downgrade writes the names back as text.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

SIGNING_OFFICIAL = "signing_official"


def _foreign_keys(on: bool) -> None:
    """SQLite rebuilds a table to change it, and dropping ``users`` while other rows refer to
    it fails with foreign keys enforced; they are off for the rebuild (each migration runs
    before its first write opens a SQLite transaction, where the pragma would be ignored)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")


def upgrade() -> None:
    _foreign_keys(on=False)
    op.create_table(
        "institutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("ror_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institutions")),
        sa.UniqueConstraint("name", name=op.f("uq_institutions_name")),
        sa.UniqueConstraint("ror_id", name=op.f("uq_institutions_ror_id")),
    )
    op.create_table(
        "institution_domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_institution_domains_institution_id_institutions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution_domains")),
        sa.UniqueConstraint("domain", name=op.f("uq_institution_domains_domain")),
    )
    with op.batch_alter_table("institution_domains", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_institution_domains_institution_id"), ["institution_id"], unique=False
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("institution_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("institution_source", sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_institution_id"), ["institution_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_users_institution_id_institutions"),
            "institutions",
            ["institution_id"],
            ["id"],
        )
    with op.batch_alter_table("role_assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("institution_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_role_assignments_institution_id_institutions"),
            "institutions",
            ["institution_id"],
            ["id"],
        )
    _texts_to_records()
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("institution")
    with op.batch_alter_table("role_assignments", schema=None) as batch_op:
        batch_op.drop_constraint("uq_role_assignments_user_id_role_scope", type_="unique")
        batch_op.drop_column("scope")
        batch_op.create_unique_constraint(
            batch_op.f("uq_role_assignments_user_id_role_institution_id"),
            ["user_id", "role", "institution_id"],
        )
        batch_op.create_index(
            "ix_role_assignments_role_institution", ["role", "institution_id"], unique=False
        )
    _foreign_keys(on=True)


def _texts_to_records() -> None:
    """One institution per distinct text among users and signing officials' scopes."""
    connection = op.get_bind()
    names = {
        row[0]
        for row in connection.execute(
            sa.text(
                "SELECT institution FROM users WHERE institution IS NOT NULL "
                "AND institution <> '' UNION SELECT scope FROM role_assignments "
                "WHERE role = :role AND scope <> ''"
            ),
            {"role": SIGNING_OFFICIAL},
        )
    }
    institutions = sa.table(
        "institutions", sa.column("name", sa.String()), sa.column("created_at", core.db.UTCDateTime())
    )
    now = datetime.now(UTC)
    for name in sorted(names):
        connection.execute(sa.insert(institutions).values(name=name, created_at=now))
    connection.execute(
        sa.text(
            "UPDATE users SET institution_source = 'claim', institution_id = "
            "(SELECT id FROM institutions WHERE institutions.name = users.institution) "
            "WHERE institution IS NOT NULL AND institution <> ''"
        )
    )
    connection.execute(
        sa.text(
            "UPDATE role_assignments SET institution_id = (SELECT id FROM institutions "
            "WHERE institutions.name = role_assignments.scope) WHERE scope <> ''"
        )
    )


def downgrade() -> None:
    _foreign_keys(on=False)
    with op.batch_alter_table("role_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_role_assignments_role_institution")
        batch_op.drop_constraint(
            "uq_role_assignments_user_id_role_institution_id", type_="unique"
        )
        batch_op.add_column(
            sa.Column("scope", sa.String(length=255), nullable=False, server_default="")
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("institution", sa.String(length=255), nullable=True))
    connection = op.get_bind()
    connection.execute(
        sa.text(
            "UPDATE users SET institution = (SELECT name FROM institutions "
            "WHERE institutions.id = users.institution_id)"
        )
    )
    connection.execute(
        sa.text(
            "UPDATE role_assignments SET scope = (SELECT name FROM institutions "
            "WHERE institutions.id = role_assignments.institution_id) "
            "WHERE institution_id IS NOT NULL"
        )
    )
    with op.batch_alter_table("role_assignments", schema=None) as batch_op:
        batch_op.drop_constraint(
            "fk_role_assignments_institution_id_institutions", type_="foreignkey"
        )
        batch_op.drop_column("institution_id")
        batch_op.alter_column("scope", server_default=None)
        batch_op.create_unique_constraint(
            "uq_role_assignments_user_id_role_scope", ["user_id", "role", "scope"]
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("fk_users_institution_id_institutions", type_="foreignkey")
        batch_op.drop_index("ix_users_institution_id")
        batch_op.drop_column("institution_source")
        batch_op.drop_column("institution_id")
    op.drop_table("institution_domains")
    op.drop_table("institutions")
    _foreign_keys(on=True)
