"""Migrations create every table on SQLite and PostgreSQL, and agree with the models."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text

# Importing the models registers every table on Base.metadata.
import access.identity.devidp.models
import access.identity.models
import access.models
import access.notifications.models
import access.passports.models
import access.requests.models  # noqa: F401
import audit.integrity.models
import audit.log.models  # noqa: F401
import datasets.agreements.models
import datasets.catalogue.models
import datasets.results.models  # noqa: F401
from audit.log.actions import AuditAction
from audit.log.append import SYSTEM, record_event
from audit.log.models import AuditEvent
from core.db import Base, make_engine, make_session_factory
from core.migrations import downgrade, upgrade
from tests.sequencing import drain


@pytest.fixture
def fresh_engine(fresh_database_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_database_url)
    yield engine
    engine.dispose()


def test_upgrade_creates_every_model_table(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    tables = set(inspect(fresh_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "audit_chain_head" not in tables  # appends take a lock instead (revision 0004)


def test_downgrading_past_the_append_lock_restores_the_chain_head(fresh_engine: Engine) -> None:
    """Older code reads the last seq and hash from a head row: rebuilt from the events."""
    upgrade(fresh_engine)
    factory = make_session_factory(fresh_engine)
    with factory.begin() as session:
        for _ in range(2):
            record_event(
                session, SYSTEM, AuditAction.AUDIT_VERIFY, now=datetime(2026, 11, 25, tzinfo=UTC)
            )
    drain(factory)
    with factory() as session:
        last_hash = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == 2))
    downgrade(fresh_engine, "0003")
    with fresh_engine.connect() as connection:
        head = connection.execute(text("SELECT id, seq, hash FROM audit_chain_head")).all()
    assert [tuple(row) for row in head] == [(1, 2, last_hash)]


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
