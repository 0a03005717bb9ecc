"""Changing audit rows the only way left: as the database owner, with the triggers off."""

from __future__ import annotations

from sqlalchemy import Executable, text

from tests.conftest import DemoInstance

APPEND_ONLY_TABLES = ("audit_events", "audit_checkpoints", "audit_signing_keys",
                      "audit_merkle_nodes")


def tamper_as_dba(demo: DemoInstance, *statements: Executable) -> None:
    """Run statements as a malicious owner would: PostgreSQL triggers disabled for the
    transaction, SQLite triggers dropped (SQLite has no other way)."""
    with demo.app.extensions["custodian.engine"].begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            for table in APPEND_ONLY_TABLES:
                connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            triggers = connection.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all()
            for trigger in triggers:
                connection.execute(text(f"DROP TRIGGER {trigger}"))
        for statement in statements:
            connection.execute(statement)
        if postgres:
            for table in APPEND_ONLY_TABLES:
                connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
