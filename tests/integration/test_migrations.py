"""Migrations create every table on SQLite and PostgreSQL, and agree with the models."""

from __future__ import annotations

from collections.abc import Iterator
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

import access.models  # noqa: F401  isort: skip
import datasets.models  # noqa: F401  isort: skip


@pytest.fixture
def fresh_engine(fresh_database_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_database_url)
    yield engine
    engine.dispose()


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


def test_flask_db_upgrade_command_migrates(fresh_database_url: str, tmp_path: Path) -> None:
    from app import create_app
    from tests.conftest import demo_settings

    url = fresh_database_url
    app = create_app(demo_settings(tmp_path, 5999, url))
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "migrated to head" in result.output
    engine = make_engine(url)
    assert "audit_events" in inspect(engine).get_table_names()
    engine.dispose()
