"""The yardstick of benchmarks/signed_urls.py: the smallest Flask app, served by gunicorn with
the service's own settings, so a ratio to it is a ratio to what the machine, gunicorn and
Flask cost on their own."""

from __future__ import annotations

from flask import Flask


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/hello")
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    return app
