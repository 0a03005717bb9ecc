"""Migrations create every table on SQLite and PostgreSQL, and agree with the models."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select

# Importing the models registers every table on Base.metadata.
import access.devidp.models
from audit.models import GENESIS_HASH, AuditChainHead
from core.db import Base, make_engine, make_session_factory
from core.migrations import downgrade, upgrade
from tests.postgres import create_database

import access.models  # noqa: F401  isort: skip
import datasets.models  # noqa: F401  isort: skip


def sqlite_engine(tmp_path: Path) -> Engine:
    return make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    if request.param == "sqlite":
        return sqlite_engine(tmp_path)
    server = request.getfixturevalue("postgres_server")
    return make_engine(create_database(server, f"mig_{uuid.uuid4().hex[:8]}"))


def test_upgrade_creates_every_model_table_and_the_chain_head(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    tables = set(inspect(fresh_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with make_session_factory(fresh_engine)() as session:
        head = session.scalar(select(AuditChainHead))
    assert head is not None and head.seq == 0 and head.hash == GENESIS_HASH


def test_models_and_migrations_agree(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    with fresh_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_downgrade_to_base_removes_every_table(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    downgrade(fresh_engine, "base")
    assert set(inspect(fresh_engine).get_table_names()) <= {"alembic_version"}


def test_flask_db_upgrade_command_migrates_postgresql(
    postgres_server: str, tmp_path: Path
) -> None:
    from app import create_app
    from tests.conftest import demo_settings

    url = create_database(postgres_server, f"cli_{uuid.uuid4().hex[:8]}")
    settings = demo_settings(tmp_path, 5999)
    app = create_app(overrides={"ENV": "demo", "INSTANCE_DIR": str(tmp_path),
                                "DATABASE_URL": url, "PUBLIC_URL": settings.public_url})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "migrated to head" in result.output
    assert "audit_events" in inspect(make_engine(url)).get_table_names()
