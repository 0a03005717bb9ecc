"""Serving the service over real HTTP in a thread, for tests whose OIDC provider is external."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from flask import Flask

from app import create_app
from config import load_settings
from core.migrations import upgrade
from tests.ports import held, wsgi_server


@contextmanager
def serving(app: Flask, port: int) -> Iterator[str]:
    """Yield the base URL while the app answers on 127.0.0.1:port."""
    server = wsgi_server(app, port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        held(port).down()  # gone, as a stopped server is: connections are refused


@contextmanager
def running_service(overrides: Mapping[str, str], port: int) -> Iterator[Flask]:
    """A freshly migrated service built from these settings, served on 127.0.0.1:port."""
    app = create_app(load_settings(environ={}, overrides=overrides))
    upgrade(app.extensions["custodian.engine"])
    try:
        with serving(app, port):
            yield app
    finally:
        app.extensions["custodian.engine"].dispose()
