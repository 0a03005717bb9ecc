"""A lost database connection is retried once; a database that is down gets a 503."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from app import create_app
from core.migrations import upgrade
from tests.conftest import demo_settings
from tests.postgres import PostgresCluster, create_database, throwaway_cluster


@pytest.fixture
def outage(tmp_path: Path) -> Iterator[tuple[Flask, PostgresCluster, str]]:
    """An app on a cluster of its own, so stopping it disturbs no other test."""
    with throwaway_cluster() as cluster:
        url = create_database(cluster.url, "outage")
        settings = demo_settings(tmp_path, 5999, url)
        settings.storage_root.mkdir(parents=True)
        app = create_app(settings)
        upgrade(app.extensions["custodian.engine"])
        yield app, cluster, url
        app.extensions["custodian.engine"].dispose()


def terminate_other_connections(url: str) -> int:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        killed = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
    admin.dispose()
    return int(killed)


def test_connection_lost_while_idle_is_replaced_unseen(
    outage: tuple[Flask, PostgresCluster, str],
) -> None:
    app, _, url = outage
    client = app.test_client()
    assert client.get("/api/v1/datasets").status_code == 200
    assert terminate_other_connections(url) >= 1
    assert client.get("/api/v1/datasets").status_code == 200


def test_database_down_is_503_in_the_error_shape_then_recovers(
    outage: tuple[Flask, PostgresCluster, str],
) -> None:
    app, cluster, _ = outage
    client = app.test_client()
    assert client.get("/api/v1/datasets").status_code == 200
    cluster.stop()
    try:
        down = client.get("/api/v1/datasets")
        assert down.status_code == 503
        assert down.get_json()["error"]["code"] == "database_unavailable"
        assert down.headers["Retry-After"] == "5"
        assert client.get("/readyz").status_code == 503
        page = client.get("/")
        assert page.status_code == 503 and "Traceback" not in page.get_data(as_text=True)
    finally:
        cluster.start()
    assert client.get("/api/v1/datasets").status_code == 200
    assert client.get("/readyz").status_code == 200
