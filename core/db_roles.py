"""The grants of the app's own PostgreSQL role: everything it needs, and no more.

The schema's owner runs migrations; the app runs as a role that owns nothing. Only an owner
can switch the audit tables' triggers off, so the app role cannot; and it gets no UPDATE,
DELETE or TRUNCATE on those tables, so even with the triggers gone it could not change them.
Which tables are append-only is read from the database itself (the tables whose triggers
call the migrations' ``audit_refuse_change()``), so a table made append-only by a later
migration is covered without a list to keep in step. The audit queue is append-only too,
but the sequencer deletes what it has chained: it keeps DELETE, which its trigger allows
only for entries the chain holds as recorded (``audit_queue_release()``, revision 0017).
GRANT and REVOKE are idempotent: running this after every ``db upgrade`` gives new tables
their grants.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

REFUSING_FUNCTION = "audit_refuse_change"  # migrations/versions/0002_audit_integrity.py
RELEASING_FUNCTION = "audit_queue_release"  # migrations/versions/0017_audit_queue.py
MIGRATIONS_TABLE = "alembic_version"


class RoleProblem(Exception):
    """The grants cannot be applied; the message says what to do first."""


@dataclass(frozen=True)
class Granted:
    role: str
    schema: str
    read_write: tuple[str, ...]
    append_only: tuple[str, ...]
    queues: tuple[str, ...]  # append-only, and DELETE of what has been chained
    read_only: tuple[str, ...]


def grant_app_role(engine: Engine, role: str) -> Granted:
    if engine.dialect.name != "postgresql":
        raise RoleProblem(
            "Roles and grants are PostgreSQL's; this database is "
            f"{engine.dialect.name}, where the app's user is the file's owner."
        )
    quote = engine.dialect.identifier_preparer.quote
    with engine.begin() as connection:
        _require_plain_role(connection, role)
        schema = connection.scalar(text("SELECT current_schema()"))
        tables = set(
            connection.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
        )
        if MIGRATIONS_TABLE not in tables:
            raise RoleProblem("The schema has no tables yet: run `flask db upgrade` first.")
        queues = _tables_triggering(connection, RELEASING_FUNCTION)
        append_only = _tables_triggering(connection, REFUSING_FUNCTION) - queues
        who, where = quote(role), quote(schema)
        for statement in (
            f"GRANT USAGE ON SCHEMA {where} TO {who}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {where} TO {who}",
            f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {where} TO {who}",
            # Nothing else may ever change the audit tables, nor the schema's version.
            *(
                f"REVOKE UPDATE, DELETE, TRUNCATE ON {quote(table)} FROM {who}"
                for table in sorted(append_only)
            ),
            *(f"REVOKE UPDATE, TRUNCATE ON {quote(table)} FROM {who}" for table in sorted(queues)),
            f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {MIGRATIONS_TABLE} FROM {who}",
        ):
            connection.execute(text(statement))
    return Granted(
        role,
        schema,
        tuple(sorted(tables - append_only - queues - {MIGRATIONS_TABLE})),
        tuple(sorted(append_only)),
        tuple(sorted(queues)),
        (MIGRATIONS_TABLE,),
    )


def _tables_triggering(connection: Connection, function: str) -> set[str]:
    """The schema's tables with a trigger that calls ``function``."""
    return set(
        connection.scalars(
            text(
                "SELECT DISTINCT c.relname FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_proc p ON p.oid = t.tgfoid "
                "WHERE p.proname = :function AND c.relnamespace = "
                "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
            ),
            {"function": function},
        )
    )


def _require_plain_role(connection: Connection, role: str) -> None:
    """The role exists, and is neither a superuser nor the one running this (the owner):
    revoking from either would change nothing, silently."""
    found = connection.execute(
        text("SELECT rolsuper FROM pg_roles WHERE rolname = :role"), {"role": role}
    ).first()
    if found is None:
        raise RoleProblem(
            f"No role {role!r}. Create it first, as a superuser or a role with CREATEROLE: "
            f"CREATE ROLE {role} LOGIN PASSWORD '...';"
        )
    if found.rolsuper or role == connection.scalar(text("SELECT current_user")):
        raise RoleProblem(
            f"{role!r} is a superuser or the role running this command (the schema's "
            "owner): the app must run as a role of its own that owns nothing."
        )
