"""audit integrity: roles on events, Merkle leaves and nodes, signed checkpoints, search keys,
and triggers that make the audit tables append-only

Existing events get their leaf hash (and search keys) computed here, before the triggers
exist; their chain hashes are untouched, as ``actor_roles`` stays null on them and a null
``actor_roles`` is left out of the canonical encoding (audit/chain.py).

On SQLite, a later batch migration that recreates an audit table drops its triggers with
the old table: such a migration must create them again (``_refuse_changes``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db
from audit.log.chain import canonical_bytes
from audit.integrity.merkle import leaf_hash
from audit.log.search_keys import search_keys

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY_TABLES = ("audit_events", "audit_checkpoints", "audit_signing_keys",
                      "audit_merkle_nodes")
DENIED = sa.text("outcome = 'denied'")
ALERT = sa.text("action = 'audit:alert'")
BATCH = 5000


def upgrade() -> None:
    op.create_table(
        "audit_signing_keys",
        sa.Column("key_id", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("first_used_at", core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_audit_signing_keys")),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("tree_size", SEQ, autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["key_id"], ["audit_signing_keys.key_id"],
                                name=op.f("fk_audit_checkpoints_key_id_audit_signing_keys")),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_audit_checkpoints")),
    )
    with op.batch_alter_table("audit_checkpoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_checkpoints_key_id"), ["key_id"], unique=False)
    op.create_table(
        "audit_merkle_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("position", SEQ, autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("level", "position", name=op.f("pk_audit_merkle_nodes")),
    )

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_roles", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("leaf_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("dataset_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("file_id", sa.Integer(), nullable=True))
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))
        batch_op.drop_index(batch_op.f("ix_audit_events_actor_user_id"))
    _fill_in_existing_events()
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("leaf_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index("ix_audit_events_action_seq", ["action", "seq"], unique=False)
        batch_op.create_index("ix_audit_events_actor_user_id_seq", ["actor_user_id", "seq"],
                              unique=False)
        batch_op.create_index("ix_audit_events_actor_subject_seq", ["actor_subject", "seq"],
                              unique=False)
        batch_op.create_index("ix_audit_events_dataset_id_seq", ["dataset_id", "seq"],
                              unique=False)
        batch_op.create_index("ix_audit_events_file_id_seq", ["file_id", "seq"], unique=False)
        batch_op.create_index("ix_audit_events_user_action_time",
                              ["actor_user_id", "action", "occurred_at"], unique=False)
        batch_op.create_index("ix_audit_events_denied_user_time",
                              ["actor_user_id", "occurred_at"], unique=False,
                              postgresql_where=DENIED, sqlite_where=DENIED)
        batch_op.create_index("ix_audit_events_denied_ip_time", ["ip", "occurred_at"],
                              unique=False, postgresql_where=DENIED, sqlite_where=DENIED)
        batch_op.create_index("ix_audit_events_alert_target_time",
                              ["target_type", "target_id", "occurred_at"], unique=False,
                              postgresql_where=ALERT, sqlite_where=ALERT)
    _refuse_changes()


def downgrade() -> None:
    _allow_changes()
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_alert_target_time")
        batch_op.drop_index("ix_audit_events_denied_ip_time")
        batch_op.drop_index("ix_audit_events_denied_user_time")
        batch_op.drop_index("ix_audit_events_user_action_time")
        batch_op.drop_index("ix_audit_events_file_id_seq")
        batch_op.drop_index("ix_audit_events_dataset_id_seq")
        batch_op.drop_index("ix_audit_events_actor_subject_seq")
        batch_op.drop_index("ix_audit_events_actor_user_id_seq")
        batch_op.drop_index("ix_audit_events_action_seq")
        batch_op.create_index(batch_op.f("ix_audit_events_actor_user_id"), ["actor_user_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.drop_column("file_id")
        batch_op.drop_column("dataset_id")
        batch_op.drop_column("leaf_hash")
        batch_op.drop_column("actor_roles")
    op.drop_table("audit_merkle_nodes")
    with op.batch_alter_table("audit_checkpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_checkpoints_key_id"))
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_signing_keys")


def _fill_in_existing_events() -> None:
    """Leaf hashes and search keys of the events recorded before this revision."""
    events = sa.table(
        "audit_events",
        sa.column("seq", SEQ), sa.column("occurred_at", core.db.UTCDateTime()),
        sa.column("action", sa.String()), sa.column("outcome", sa.String()),
        sa.column("actor_user_id", sa.Integer()), sa.column("actor_issuer", sa.String()),
        sa.column("actor_subject", sa.String()), sa.column("actor_token_id", sa.Integer()),
        sa.column("actor_roles", sa.String()), sa.column("ip", sa.String()),
        sa.column("user_agent", sa.String()), sa.column("request_id", sa.String()),
        sa.column("target_type", sa.String()), sa.column("target_id", sa.String()),
        sa.column("details", sa.JSON()), sa.column("leaf_hash", sa.String()),
        sa.column("dataset_id", sa.Integer()), sa.column("file_id", sa.Integer()),
    )
    fill = events.update().where(events.c.seq == sa.bindparam("b_seq")).values(
        leaf_hash=sa.bindparam("b_leaf"), dataset_id=sa.bindparam("b_dataset"),
        file_id=sa.bindparam("b_file"),
    )
    connection = op.get_bind()
    last = 0
    while rows := connection.execute(
        sa.select(events).where(events.c.seq > last).order_by(events.c.seq).limit(BATCH)
    ).mappings().all():
        values = []
        for row in rows:
            dataset_id, file_id = search_keys(row["target_type"], row["target_id"],
                                              row["details"])
            values.append({"b_seq": row["seq"], "b_leaf": leaf_hash(canonical_bytes(row)).hex(),
                           "b_dataset": dataset_id, "b_file": file_id})
        connection.execute(fill, values)
        last = rows[-1]["seq"]


def _refuse_changes() -> None:
    """The database itself refuses to change or remove audit rows, whoever asks."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit tables are append-only: % on % refused',
                    TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
            END
            $$
        """)
        for table in APPEND_ONLY_TABLES:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()")
        return
    for table in APPEND_ONLY_TABLES:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'audit tables are append-only: {operation} on "
                f"{table} refused'); END"
            )


def _allow_changes() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION audit_refuse_change()")
        return
    for table in APPEND_ONLY_TABLES:
        op.execute(f"DROP TRIGGER {table}_no_delete")
        op.execute(f"DROP TRIGGER {table}_no_update")
