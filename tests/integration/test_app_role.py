"""``flask db grant-app-role``: the app's role appends audit events and can change none."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from uuid import uuid4

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from app import create_app
from tests.conftest import ONLY_POSTGRESQL, DemoInstance, issue_token

AUDIT_TABLES = ("audit_events", "audit_checkpoints", "audit_signing_keys", "audit_merkle_nodes")


def cli(demo: DemoInstance, *args: str) -> tuple[int, str]:
    result = demo.app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


@pytest.fixture
def role(demo: DemoInstance) -> Iterator[str]:
    """A login role that owns nothing, made as a superuser would (the README's step)."""
    owner: Engine = demo.app.extensions["custodian.engine"]
    name = f"app_{uuid4().hex[:10]}"
    with owner.begin() as connection:
        connection.execute(text(f"CREATE ROLE {name} LOGIN"))
    yield name
    with owner.begin() as connection:
        connection.execute(text(f"DROP OWNED BY {name}"))
        connection.execute(text(f"DROP ROLE {name}"))


def privileges(demo: DemoInstance, role: str, table: str) -> set[str]:
    with demo.app.extensions["custodian.engine"].connect() as connection:
        return {
            kind
            for kind in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
            if connection.scalar(
                text("SELECT has_table_privilege(:r, :t, :k)"), {"r": role, "t": table, "k": kind}
            )
        }


@ONLY_POSTGRESQL
def test_grants_are_idempotent_and_the_role_appends_but_cannot_change_the_audit_log(
    demo: DemoInstance,
    role: str,
) -> None:
    first = cli(demo, "db", "grant-app-role", role)
    assert first[0] == 0, first[1]
    assert cli(demo, "db", "grant-app-role", role) == first  # again: the same, no error
    assert "only SELECT, INSERT on audit_checkpoints, audit_events" in first[1]
    for table in AUDIT_TABLES:
        assert privileges(demo, role, table) == {"SELECT", "INSERT"}, table
    assert privileges(demo, role, "users") == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    assert privileges(demo, role, "alembic_version") == {"SELECT"}
    # The sequencer, as the app, deletes what it chains; the queue's trigger checks each.
    assert privileges(demo, role, "audit_queue") == {"SELECT", "INSERT", "DELETE"}
    assert "only SELECT, INSERT and the DELETE its trigger checks on audit_queue" in first[1]

    owner: Engine = demo.app.extensions["custodian.engine"]
    url = owner.url.set(username=role).render_as_string(hide_password=False)
    app = create_app(replace(demo.settings, database_url=url), clock=demo.clock)
    as_app = DemoInstance(app, demo.clock, demo.settings, demo.base_url)
    try:
        made = app.test_client().post(
            "/api/v1/tokens", json={"name": "t", "days": 1}, headers=issue_token(demo, "researcher")
        )
        assert made.status_code == 201, made.get_json()  # an action and its audit event
        assert cli(as_app, "audit", "checkpoint")[0] == 0
        engine: Engine = app.extensions["custodian.engine"]
        for statement in (
            "UPDATE audit_events SET ip = 'x'",
            "UPDATE audit_queue SET ip = 'x'",
            "DELETE FROM audit_checkpoints",
            "TRUNCATE audit_merkle_nodes",
            "ALTER TABLE audit_events DISABLE TRIGGER USER",
            "UPDATE alembic_version SET version_num = 'x'",
        ):
            with (
                pytest.raises(DBAPIError, match=r"permission denied|must be owner"),
                engine.begin() as connection,
            ):
                connection.execute(text(statement))
    finally:
        app.extensions["custodian.engine"].dispose()
    assert cli(demo, "audit", "verify")[0] == 0


@ONLY_POSTGRESQL
def test_a_missing_role_or_the_owner_itself_is_refused_naming_what_to_do(
    demo: DemoInstance,
) -> None:
    code, output = cli(demo, "db", "grant-app-role", "nobody_here")
    assert code == 1 and "No role 'nobody_here'" in output and "CREATE ROLE" in output
    owner: Engine = demo.app.extensions["custodian.engine"]
    assert owner.url.username is not None
    code, output = cli(demo, "db", "grant-app-role", owner.url.username)
    assert code == 1 and "owns nothing" in output


@pytest.mark.parametrize("database_backend", ["sqlite"], indirect=True)
def test_on_sqlite_there_is_no_role_to_grant(demo: DemoInstance) -> None:
    code, output = cli(demo, "db", "grant-app-role", "custodian_app")
    assert code == 1 and "PostgreSQL" in output
