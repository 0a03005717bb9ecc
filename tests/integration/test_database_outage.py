"""A lost database connection is retried once; a database that is down gets a 503, on every
page and API alike, signed in or not, and the service recovers without a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from app import create_app
from core.clock import MovableClock
from core.migrations import upgrade
from datasets.demo.set_up import set_up_demo
from tests.conftest import DemoInstance, demo_settings
from tests.integration.test_pages_and_health import signed_in_client
from tests.postgres import PostgresCluster, create_database, throwaway_cluster

# Pages of every kind: the catalogue, a dataset, the open tier, the signed-in, admin and
# auditor pages.
PAGES = ("/", "/datasets/1", "/results", "/requests", "/tokens", "/audit", "/admin/committees")


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


@pytest.fixture
def seeded_outage(tmp_path: Path) -> Iterator[tuple[DemoInstance, PostgresCluster]]:
    """The demo study and personas on a cluster of its own, so that people can sign in."""
    with throwaway_cluster() as cluster:
        settings = demo_settings(tmp_path, 5999, create_database(cluster.url, "outage"))
        clock = MovableClock()
        app = create_app(settings, clock=clock)
        upgrade(app.extensions["custodian.engine"])
        with app.extensions["custodian.session_factory"].begin() as session:
            set_up_demo(
                session,
                issuer=settings.dev_idp_issuer,
                storage=app.extensions["custodian.storage"],
                now=clock.now(),
            )
        yield DemoInstance(app, clock, settings, settings.public_url), cluster
        app.extensions["custodian.engine"].dispose()


def terminate_other_connections(url: str) -> int:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        killed = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
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


def test_every_page_is_the_503_page_while_the_database_is_down_signed_in_or_not(
    seeded_outage: tuple[DemoInstance, PostgresCluster],
) -> None:
    demo, cluster = seeded_outage
    visitors = {
        "anonymous": demo.app.test_client(),
        "admin": signed_in_client(demo, "admin"),
        "auditor": signed_in_client(demo, "auditor"),
    }
    for client in visitors.values():
        assert client.get("/").status_code == 200
    cluster.stop()
    try:
        for who, client in visitors.items():
            for path in PAGES:
                page = client.get(path)
                if who == "anonymous" and path in (
                    "/requests",
                    "/tokens",
                    "/audit",
                    "/admin/committees",
                ):
                    # Asking who you are needs no database: off to the identity provider.
                    assert page.status_code == 302, (who, path)
                    assert page.headers["Location"].startswith("/auth/login?next=")
                    continue
                text = page.get_data(as_text=True)
                assert page.status_code == 503, (who, path, page.status_code)
                assert page.mimetype == "text/html" and "Temporarily unavailable" in text
                assert page.headers["Retry-After"] == "5", (who, path)
                # No header that names the user, nor a sign-in that could not work now.
                assert "Sign out" not in text and "Sign in" not in text, (who, path)
    finally:
        cluster.start()
    for who, client in visitors.items():
        home = client.get("/")
        assert home.status_code == 200, who
        assert ("Sign out" in home.get_data(as_text=True)) == (who != "anonymous")


def test_readyz_names_the_database_down_and_the_audit_log_unknown_then_ready_again(
    outage: tuple[Flask, PostgresCluster, str],
) -> None:
    app, cluster, _ = outage
    client = app.test_client()
    assert client.get("/readyz").get_json()["checks"] == {
        "database": "ok",
        "storage": "ok",
        "audit": "ok",
        "audit_sequencer": "ok",
    }
    cluster.stop()
    try:
        down = client.get("/readyz")
        assert down.status_code == 503
        assert down.get_json() == {
            "status": "unavailable",
            "checks": {
                "database": "unavailable",
                "storage": "ok",
                "audit": "unknown",
                "audit_sequencer": "unknown",
            },
        }
    finally:
        cluster.start()
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {
        "status": "ready",
        "checks": {"database": "ok", "storage": "ok", "audit": "ok", "audit_sequencer": "ok"},
        "figures": {"audit_sequencer": {"oldest_seconds": 0.0, "unchained": 0}},
    }
