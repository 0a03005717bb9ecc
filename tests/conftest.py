"""Shared fixtures: a demo instance built once per session and copied for each test."""

from __future__ import annotations

import gc
import shutil
import sys
import threading
import traceback
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from flask import Flask
from werkzeug.serving import BaseWSGIServer

from app import create_app
from config import Settings, load_settings
from core.clock import MovableClock
from core.migrations import upgrade
from datasets.demo.set_up import set_up_demo
from tests.html_forms import form_with_field
from tests.ports import HeldPort, held, wsgi_server

DATABASE_BACKENDS = ["sqlite", "postgresql"]
# A test that needs what only PostgreSQL has (its locks, plans, roles): run on it alone.
ONLY_POSTGRESQL = pytest.mark.parametrize("database_backend", ["postgresql"], indirect=True)


@pytest.fixture(scope="session")
def demo_port() -> Iterator[int]:
    """One port for the session: persona users are keyed by the IdP issuer, which names it.
    Held (tests/ports.py) for the whole session, so no other process can take it between
    the tests that serve on it."""
    port = HeldPort()
    yield port.number
    port.close()


def demo_settings(instance_dir: Path, port: int, database_url: str | None = None,
                  extra: Mapping[str, str] | None = None) -> Settings:
    overrides = {"ENV": "demo", "INSTANCE_DIR": str(instance_dir),
                 "PUBLIC_URL": f"http://127.0.0.1:{port}", **(extra or {})}
    if database_url is not None:
        overrides["DATABASE_URL"] = database_url
    return load_settings(environ={}, overrides=overrides)


@pytest.fixture(scope="session", params=DATABASE_BACKENDS)
def database_backend(request: pytest.FixtureRequest) -> str:
    """Every test that touches the database runs once on SQLite and once on PostgreSQL."""
    backend: str = request.param
    return backend


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    from tests.postgres import throwaway_cluster

    with throwaway_cluster() as cluster:
        yield cluster.url


@pytest.fixture
def fresh_database_url(
    database_backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """An empty database of the backend under test (not migrated)."""
    if database_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite'}"
        return
    from tests.postgres import create_database, drop_database

    server = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield create_database(server, name)
    drop_database(server, name)


@pytest.fixture(scope="session")
def demo_template(
    tmp_path_factory: pytest.TempPathFactory, demo_port: int, database_backend: str,
    request: pytest.FixtureRequest,
) -> tuple[Path, str | None]:
    """A migrated, seeded demo instance (database, storage, secrets), built once per backend.

    Returns the instance folder and, on PostgreSQL, the template database's name.
    """
    instance = tmp_path_factory.mktemp(f"demo-template-{database_backend}")
    template_db: str | None = None
    database_url = None
    if database_backend == "postgresql":
        from tests.postgres import create_database

        template_db = f"demo_template_{uuid.uuid4().hex[:8]}"
        database_url = create_database(request.getfixturevalue("postgres_server"), template_db)
    app = create_app(demo_settings(instance, demo_port, database_url))
    upgrade(app.extensions["custodian.engine"])
    with app.app_context():
        factory = app.extensions["custodian.session_factory"]
        with factory.begin() as session:
            set_up_demo(session, issuer=f"http://127.0.0.1:{demo_port}/dev-idp",
                        storage=app.extensions["custodian.storage"],
                        now=app.extensions["custodian.clock"].now())
    # PostgreSQL copies a template only while nobody is connected to it.
    app.extensions["custodian.engine"].dispose()
    return instance, template_db


@dataclass
class DemoInstance:
    app: Flask
    clock: MovableClock
    settings: Settings
    base_url: str


@pytest.fixture
def demo(
    demo_template: tuple[Path, str | None], tmp_path: Path, demo_port: int,
    request: pytest.FixtureRequest,
) -> Iterator[DemoInstance]:
    template_dir, template_db = demo_template
    instance = tmp_path / "instance"
    shutil.copytree(template_dir, instance)
    database_url = None
    name = f"t_{uuid.uuid4().hex[:12]}"
    if template_db is not None:
        from tests.postgres import create_database

        server = request.getfixturevalue("postgres_server")
        database_url = create_database(server, name, template=template_db)
    settings = demo_settings(instance, demo_port, database_url)
    clock = MovableClock()
    app = create_app(settings, clock=clock)
    yield DemoInstance(app, clock, settings, settings.public_url)
    # A session the test left open holds its connection until the garbage collector finds
    # it, inside some later test, where its rollback fails against a database dropped since
    # (and CPython 3.11.7 can then fail an ast.parse that test is running). Such a test is
    # named here instead, after its session has been collected while its database exists.
    left_open = app.extensions["custodian.engine"].pool.checkedout()
    if left_open:
        gc.collect()
    app.extensions["custodian.engine"].dispose()
    if template_db is not None:
        from tests.postgres import drop_database

        drop_database(request.getfixturevalue("postgres_server"), name)
    assert left_open == 0, (f"the test left {left_open} database session(s) open: use "
                            "`with factory() as session:`")


@contextmanager
def serving(instance: DemoInstance) -> Iterator[DemoInstance]:
    """``instance`` served over real HTTP at its base URL, in a thread, until the block ends."""
    port = int(instance.base_url.rsplit(":", 1)[1])
    server: BaseWSGIServer = wsgi_server(instance.app, port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield instance
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        held(port).down()  # gone, as a stopped server is


@pytest.fixture
def live(demo: DemoInstance) -> Iterator[DemoInstance]:
    """The demo instance served over real HTTP (the OIDC client calls the IdP over HTTP)."""
    with serving(demo) as served:
        yield served


def sign_in(base_url: str, username: str) -> requests.Session:
    """Sign in through the embedded IdP exactly as a browser does; returns the cookie session."""
    browser = requests.Session()
    login_page = browser.get(f"{base_url}/auth/login?next=/requests", timeout=10)
    assert login_page.status_code == 200, login_page.text
    form = form_with_field(login_page.text, login_page.url, "username")
    form.fields["username"] = username
    try:
        landed = browser.post(form.action, data=form.fields, timeout=10)
    except requests.Timeout:
        # Rarely, on PostgreSQL, the first page after the callback has waited past the
        # timeout (cause not yet known): the server runs in this process, so show where
        # each of its threads stands before the test fails.
        names = {thread.ident: thread.name for thread in threading.enumerate()}
        for ident, frame in sys._current_frames().items():
            print(f"--- thread {names.get(ident, ident)}:\n"
                  + "".join(traceback.format_stack(frame)), file=sys.stderr)
        raise
    assert landed.status_code == 200, landed.text
    assert landed.url == f"{base_url}/requests", landed.url
    return browser


def csrf_header(browser: requests.Session, base_url: str) -> dict[str, str]:
    me = browser.get(f"{base_url}/api/v1/users/me", timeout=10)
    assert me.status_code == 200, me.text
    return {"X-CSRF-Token": me.json()["csrf_token"]}


def issue_token(demo: DemoInstance, username: str) -> dict[str, str]:
    """A Bearer header for a persona with every scope, made through the real use case (no
    HTTP sign-in)."""
    from sqlalchemy import select

    from access.identity.actor import Actor
    from access.identity.models import User
    from access.tokens import create_api_token
    from core.scopes import ALL_SCOPES

    factory = demo.app.extensions["custodian.session_factory"]
    with factory.begin() as session:
        user = session.scalars(select(User).where(User.subject == username)).one()
        issued = create_api_token(session, Actor(user=user), name="test", days=1, max_days=30,
                                  now=demo.clock.now(), scopes=ALL_SCOPES)
    return {"Authorization": f"Bearer {issued.token}"}

