"""The README's PostgreSQL steps run as written: the superuser makes the roles and the
database, the owner migrates and grants, and the app's role then appends audit events and
can change none. A cluster of its own: roles belong to a whole cluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from tests.postgres import PostgresCluster, throwaway_cluster
from tests.runbooks import app_url, production_environment, run, runbook


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    with throwaway_cluster() as started:
        yield started


def test_the_database_steps_run_as_written_and_a_release_can_be_repeated(
    cluster: PostgresCluster,
    tmp_path: Path,
) -> None:
    env = production_environment(cluster, tmp_path)
    made = run(runbook("database-setup"), env, cluster)
    assert made.returncode == 0, made.stderr
    for _ in range(2):  # a second release of the same version changes nothing
        released = run(runbook("database-release"), env, cluster)
        assert released.returncode == 0, released.stderr
        assert "Granted custodian_app" in released.stdout

    as_app = {**env, "CUSTODIAN_DATABASE_URL": app_url(cluster, "custodian_app")}
    appended = run(
        "flask --app app:create_app audit checkpoint\nflask --app app:create_app audit verify",
        as_app,
        cluster,
    )
    assert appended.returncode == 0, appended.stderr
    assert "OK:" in appended.stdout

    engine = create_engine(app_url(cluster, "custodian_app"))
    try:
        with engine.connect() as connection:
            owners = set(
                connection.scalars(
                    text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
                )
            )
            assert owners == {"custodian"}  # the owner made every table, the app none
        for statement in (
            "UPDATE audit_events SET ip = 'x'",
            "TRUNCATE audit_checkpoints",
            "ALTER TABLE audit_events DISABLE TRIGGER USER",
        ):
            with (
                pytest.raises(DBAPIError, match=r"permission denied|must be owner"),
                engine.begin() as connection,
            ):
                connection.execute(text(statement))
    finally:
        engine.dispose()
