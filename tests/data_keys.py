"""A data key for tests that build an engine without an app (create_app gives its own)."""

from __future__ import annotations

from sqlalchemy import Engine

from core.field_encryption import DataKeys, use_data_keys

TEST_DATA_KEYS = DataKeys("a data key for tests that run without an app")


def keyed(engine: Engine) -> Engine:
    use_data_keys(engine, TEST_DATA_KEYS)
    return engine
