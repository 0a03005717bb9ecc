"""The demo served by real gunicorn workers on a throwaway PostgreSQL database (or on the
demo's own SQLite file, as `make demo` serves it), for the tests that attack, fault or load
it as a deployment would be: fuzzing, killed workers, concurrent writers.
gunicorn runs with the shipped deploy/gunicorn.conf.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from flask import Flask
from sqlalchemy import select

from app import create_app
from config import Settings
from core.migrations import upgrade
from datasets.demo.set_up import set_up_demo
from tests.conftest import demo_settings
from tests.ports import HeldPort
from tests.postgres import create_database

REPO = Path(__file__).resolve().parents[1]
# What ships is what the tests serve with; only the socket and the worker count are theirs.
GUNICORN_CONFIG = REPO / "deploy" / "gunicorn.conf.py"


@dataclass(frozen=True)
class Service:
    url: str
    settings: Settings
    process: subprocess.Popen[bytes]
    log: Path

    @contextmanager
    def app(self) -> Iterator[Flask]:
        """An app on the same database and files, for setting up and checking afterwards."""
        app = create_app(self.settings)
        try:
            yield app
        finally:
            app.extensions["custodian.engine"].dispose()

    def token(self, username: str) -> dict[str, str]:
        from access.identity.actor import Actor
        from access.identity.models import User
        from access.tokens import create_api_token
        from core.scopes import ALL_SCOPES

        with self.app() as app, app.extensions["custodian.session_factory"].begin() as session:
            user = session.scalars(select(User).where(User.subject == username)).one()
            issued = create_api_token(
                session,
                Actor(user=user),
                name="service test",
                days=1,
                max_days=30,
                now=app.extensions["custodian.clock"].now(),
                scopes=ALL_SCOPES,
            )
        return {"Authorization": f"Bearer {issued.token}"}


@contextmanager
def gunicorn_demo(
    postgres_server: str | None,
    tmp_path: Path,
    *,
    workers: int = 2,
    env: Mapping[str, str] | None = None,
    options: tuple[str, ...] = (),
    settings_overrides: Mapping[str, str] | None = None,
) -> Iterator[Service]:
    """``postgres_server`` None: the demo's SQLite file in ``tmp_path``. ``settings_overrides``
    (names without the CUSTODIAN_ prefix, e.g. STORAGE_BACKEND) reach the seeding app and the
    workers alike."""
    held = HeldPort()
    port = held.number
    database_url = None
    if postgres_server is not None:
        database_url = create_database(postgres_server, f"svc_{port}")
    settings = demo_settings(tmp_path, port, database_url, settings_overrides)
    seeding = create_app(settings)
    upgrade(seeding.extensions["custodian.engine"])
    with seeding.extensions["custodian.session_factory"].begin() as session:
        set_up_demo(
            session,
            issuer=settings.dev_idp_issuer,
            storage=seeding.extensions["custodian.storage"],
            now=seeding.extensions["custodian.clock"].now(),
        )
    seeding.extensions["custodian.engine"].dispose()
    environment = {
        **os.environ,
        "CUSTODIAN_ENV": "demo",
        "CUSTODIAN_INSTANCE_DIR": str(tmp_path),
        "CUSTODIAN_DATABASE_URL": settings.database_url,
        "CUSTODIAN_PUBLIC_URL": settings.public_url,
        **{f"CUSTODIAN_{name}": value for name, value in (settings_overrides or {}).items()},
        **(env or {}),
    }
    log = tmp_path / "gunicorn.log"
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    sock = held.listen()  # gunicorn serves the socket held since the port was chosen
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                gunicorn,
                "--config",
                str(GUNICORN_CONFIG),
                "--workers",
                str(workers),
                "--bind",
                f"fd://{sock.fileno()}",
                *options,
                "app:create_app()",
            ],
            cwd=REPO,
            env=environment,
            stdout=output,
            stderr=output,
            pass_fds=(sock.fileno(),),
        )
    service = Service(settings.public_url, settings, process, log)
    try:
        _wait_until_up(service)
        yield service
    finally:
        process.terminate()
        process.wait(timeout=30)
        held.close()


def _wait_until_up(service: Service) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise AssertionError(f"gunicorn exited: {service.log.read_text()[-2000:]}")
        try:
            if requests.get(f"{service.url}/healthz", timeout=2).ok:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError(f"{service.url} did not start")
