"""Alembic environment: the engine comes from the caller (flask db / tests) or the settings."""

from __future__ import annotations

from alembic import context

# Every package's models, so the metadata Alembic compares against is complete.
from core.db import Base, make_engine

metadata = Base.metadata

config = context.config


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from config import load_settings

        engine = make_engine(load_settings().database_url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    connection.close()


run_migrations()
