"""audit queue: actions queue their events, a sequencer chains them (audit/log/sequencer.py)

Actions insert into ``audit_queue`` and take no lock; the sequencer moves entries into
``audit_events`` (which gains ``entry_id`` and ``chained_at``, neither hashed) and deletes
them in the same transaction. The database refuses any UPDATE or TRUNCATE of the queue,
and a DELETE of an entry unless the chain holds an event made from it with the very same
content: an event can leave the queue only into the chain. ``audit_alert_windows`` is the sequencer's O(1) alert state,
derived from the chain (audit/review/alerts.py). Events chained before this revision keep
their bytes and hashes: nothing about the chain format changes.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# The hashed content an entry carries, compared null-safely when it leaves the queue.
CONTENT = ("occurred_at", "action", "outcome", "actor_user_id", "actor_issuer", "actor_subject",
           "actor_token_id", "actor_roles", "ip", "user_agent", "request_id", "target_type",
           "target_id")


def upgrade() -> None:
    op.create_table(
        "audit_queue",
        sa.Column("id", SEQ, autoincrement=True, nullable=False),
        sa.Column("occurred_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_issuer", sa.String(length=512), nullable=True),
        sa.Column("actor_subject", sa.String(length=255), nullable=True),
        sa.Column("actor_token_id", sa.Integer(), nullable=True),
        sa.Column("actor_roles", sa.String(length=255), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("target_type", sa.String(length=32), nullable=True),
        sa.Column("target_id", sa.String(length=128), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_queue")),
        sqlite_autoincrement=True,  # ids are never reused, even once the queue is empty
    )
    op.create_table(
        "audit_alert_windows",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject_type", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("recent", sa.JSON(), nullable=False),
        sa.Column("alerted_at", core.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("kind", "subject_type", "subject",
                                name=op.f("pk_audit_alert_windows")),
    )
    # A plain ADD COLUMN and a unique index: on SQLite, a table rebuild would drop the
    # append-only triggers of revision 0002.
    op.add_column("audit_events", sa.Column("entry_id", SEQ, nullable=True))
    op.add_column("audit_events", sa.Column("chained_at", core.db.UTCDateTime(), nullable=True))
    op.create_index("ix_audit_events_entry_id", "audit_events", ["entry_id"], unique=True)
    _guard_queue()


def downgrade() -> None:
    connection = op.get_bind()
    waiting = connection.scalar(sa.text("SELECT count(*) FROM audit_queue"))
    if waiting:
        raise RuntimeError(f"{waiting} audit events are queued and not yet chained: run "
                           "`flask audit sequence` (or any command that drains the queue) "
                           "before downgrading, or they would be lost")
    _unguard_queue()
    op.drop_index("ix_audit_events_entry_id", table_name="audit_events")
    if connection.dialect.name == "sqlite":  # a native DROP COLUMN keeps the triggers
        op.execute("ALTER TABLE audit_events DROP COLUMN chained_at")
        op.execute("ALTER TABLE audit_events DROP COLUMN entry_id")
    else:
        op.drop_column("audit_events", "chained_at")
        op.drop_column("audit_events", "entry_id")
    op.drop_table("audit_alert_windows")
    op.drop_table("audit_queue")


def _same_content(equal: str, details: str) -> str:
    return " AND ".join([f"e.{name} {equal} OLD.{name}" for name in CONTENT] + [details])


def _guard_queue() -> None:
    if op.get_bind().dialect.name == "postgresql":
        content = _same_content("IS NOT DISTINCT FROM", "e.details::jsonb = OLD.details::jsonb")
        op.execute(f"""
            CREATE FUNCTION audit_queue_release() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM audit_events e
                               WHERE e.entry_id = OLD.id AND {content}) THEN
                    RAISE EXCEPTION 'audit queue: entry % is not in the chain as recorded; '
                        'DELETE refused', OLD.id USING ERRCODE = 'insufficient_privilege';
                END IF;
                RETURN OLD;
            END
            $$
        """)
        op.execute("CREATE TRIGGER audit_queue_append_only BEFORE UPDATE ON audit_queue "
                   "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()")
        op.execute("CREATE TRIGGER audit_queue_no_truncate BEFORE TRUNCATE ON audit_queue "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()")
        op.execute("CREATE TRIGGER audit_queue_only_into_chain BEFORE DELETE ON audit_queue "
                   "FOR EACH ROW EXECUTE FUNCTION audit_queue_release()")
        return
    content = _same_content("IS", "e.details IS OLD.details")
    op.execute("CREATE TRIGGER audit_queue_no_update BEFORE UPDATE ON audit_queue BEGIN "
               "SELECT RAISE(ABORT, 'audit tables are append-only: UPDATE on audit_queue "
               "refused'); END")
    op.execute("CREATE TRIGGER audit_queue_only_into_chain BEFORE DELETE ON audit_queue "
               "WHEN NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.entry_id = OLD.id "
               f"AND {content}) BEGIN SELECT RAISE(ABORT, 'audit queue: an entry that is not "
               "in the chain as recorded; DELETE refused'); END")


def _unguard_queue() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for trigger in ("audit_queue_only_into_chain", "audit_queue_no_truncate",
                        "audit_queue_append_only"):
            op.execute(f"DROP TRIGGER {trigger} ON audit_queue")
        op.execute("DROP FUNCTION audit_queue_release()")
        return
    op.execute("DROP TRIGGER audit_queue_only_into_chain")
    op.execute("DROP TRIGGER audit_queue_no_update")
