"""live file counts: each dataset keeps the number of its live files, kept by the database

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 22:10:00.000000

The catalogue shows each dataset's live files; counting them, even from the partial index
of revision 0020, grew with the files (46 ms over 1,000,000, benchmarks/scale.py). The count
is kept on the dataset by triggers on data_files rather than by the use cases, so it stays
true whatever writes files: registration, manifest import, retirement, the demo's set-up,
a bulk COPY or an operator's SQL. On PostgreSQL the triggers run once per statement over
its transition tables, so a COPY of a million files updates each dataset once (a row
trigger would update a dataset row per file, each a new row version); SQLite has only row
triggers, and its writes are the demo's. Revision 0020's partial index of live files served
only the counting, so it goes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# One function for every statement: the difference each makes to the live files per dataset.
POSTGRESQL_FUNCTION = """
CREATE FUNCTION data_files_keep_live_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE datasets SET live_file_count = 0 WHERE live_file_count <> 0;
    ELSIF TG_OP = 'INSERT' THEN
        UPDATE datasets SET live_file_count = live_file_count + moved.n
        FROM (SELECT dataset_id, count(*) AS n FROM after_rows WHERE retired_at IS NULL
              GROUP BY dataset_id) AS moved
        WHERE datasets.id = moved.dataset_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE datasets SET live_file_count = live_file_count - moved.n
        FROM (SELECT dataset_id, count(*) AS n FROM before_rows WHERE retired_at IS NULL
              GROUP BY dataset_id) AS moved
        WHERE datasets.id = moved.dataset_id;
    ELSE
        UPDATE datasets SET live_file_count = live_file_count + moved.n
        FROM (SELECT dataset_id, sum(n) AS n FROM (
                  SELECT dataset_id, 1 AS n FROM after_rows WHERE retired_at IS NULL
                  UNION ALL
                  SELECT dataset_id, -1 FROM before_rows WHERE retired_at IS NULL) AS each_file
              GROUP BY dataset_id HAVING sum(n) <> 0) AS moved
        WHERE datasets.id = moved.dataset_id;
    END IF;
    RETURN NULL;
END
$$
"""
# PostgreSQL allows transition tables only on a trigger of one event: one trigger each.
POSTGRESQL_TRIGGERS = {
    "data_files_count_insert": "AFTER INSERT ON data_files REFERENCING NEW TABLE AS after_rows",
    "data_files_count_update": "AFTER UPDATE ON data_files "
                               "REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows",
    "data_files_count_delete": "AFTER DELETE ON data_files REFERENCING OLD TABLE AS before_rows",
    "data_files_count_truncate": "AFTER TRUNCATE ON data_files",
}
SQLITE_TRIGGERS = {
    "data_files_count_insert": """
        AFTER INSERT ON data_files WHEN NEW.retired_at IS NULL BEGIN
            UPDATE datasets SET live_file_count = live_file_count + 1 WHERE id = NEW.dataset_id;
        END""",
    "data_files_count_update": """
        AFTER UPDATE OF retired_at, dataset_id ON data_files BEGIN
            UPDATE datasets SET live_file_count = live_file_count - 1
            WHERE id = OLD.dataset_id AND OLD.retired_at IS NULL;
            UPDATE datasets SET live_file_count = live_file_count + 1
            WHERE id = NEW.dataset_id AND NEW.retired_at IS NULL;
        END""",
    "data_files_count_delete": """
        AFTER DELETE ON data_files WHEN OLD.retired_at IS NULL BEGIN
            UPDATE datasets SET live_file_count = live_file_count - 1 WHERE id = OLD.dataset_id;
        END""",
}


LIVE = sa.text("retired_at IS NULL")


def upgrade() -> None:
    op.drop_index("ix_data_files_live_dataset_id", table_name="data_files")
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("live_file_count", sa.Integer(), nullable=False,
                                      server_default=sa.text("0")))
    # Counted before the triggers exist; no file is written meanwhile, as adding the column
    # locks datasets (which every file's foreign key checks) until the migration commits.
    op.execute("UPDATE datasets SET live_file_count = (SELECT count(*) FROM data_files "
               "WHERE data_files.dataset_id = datasets.id AND data_files.retired_at IS NULL)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_FUNCTION)
        for name, when in POSTGRESQL_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} FOR EACH STATEMENT "
                       "EXECUTE FUNCTION data_files_keep_live_counts()")
        return
    for name, body in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in POSTGRESQL_TRIGGERS:
            op.execute(f"DROP TRIGGER {name} ON data_files")
        op.execute("DROP FUNCTION data_files_keep_live_counts()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.drop_column("live_file_count")
    op.create_index("ix_data_files_live_dataset_id", "data_files", ["dataset_id"],
                    postgresql_where=LIVE, sqlite_where=LIVE)
