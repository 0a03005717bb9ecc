"""The application factory: the app assembled in named steps, each domain installing its
own pages, APIs, commands and extensions. Nothing imports this module."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response
from sqlalchemy import Engine, text
from werkzeug.middleware.proxy_fix import ProxyFix

import access.install
import audit.install
import datasets.install
from access.identity.current_actor import audit_reader, authenticated_by_token, record_refused
from audit.log.alarm import commit_audited
from config import Settings, load_settings
from core import log_redaction, logging_setup
from core.cli import db_cli, keys_cli
from core.clock import Clock, SystemClock
from core.db import make_engine, make_session_factory
from core.field_encryption import DataKeys, use_data_keys
from core.web import (
    csrf,
    error_handling,
    health,
    metrics_endpoint,
    rate_limits,
    request_id,
    request_scope,
    routing,
    security,
    site,
)
from core.web.api_docs_page import docs as api_docs
from datasets.audit_directory import NamesForAudit
from datasets.catalogue.queries import CatalogueDirectory


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Flask:
    settings = settings or load_settings(overrides=overrides)
    app = _flask_app(settings)
    _install_logging(settings)
    engine = _install_database(app, settings, clock or SystemClock())
    _install_web_basics(app, settings)
    audit.install.install(
        app,
        settings,
        engine=engine,
        session_factory=request_scope.factory_of(app),
        clock=request_scope.clock_of(app),
        reader=audit_reader,
        directory=NamesForAudit(),
    )
    access.install.install(app, settings, directory=CatalogueDirectory())
    datasets.install.install(app, settings)
    error_handling.install(app, record_refused)
    _install_operations(app, settings, engine)
    app.after_request(_commit_on_success)
    return app


def _flask_app(settings: Settings) -> Flask:
    app = Flask(__name__, static_folder=None)
    routing.install(app)
    if settings.trusted_proxies:
        # Only behind that many proxies may X-Forwarded-For/-Proto be believed (audit IPs).
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SECRET_KEY_FALLBACKS=list(settings.secret_key_previous),
        CUSTODIAN_SETTINGS=settings,
        SESSION_COOKIE_NAME="custodian_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not settings.is_demo,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=not settings.is_demo,
        PERMANENT_SESSION_LIFETIME=8 * 3600,
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    return app


def _install_logging(settings: Settings) -> None:
    logging_setup.install(settings.log_format)
    log_redaction.install()


def _install_database(app: Flask, settings: Settings, clock: Clock) -> Engine:
    """One engine per process; one session per request (core/web/request_scope.py)."""
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
    )
    app.extensions["custodian.engine"] = engine
    use_data_keys(engine, DataKeys(settings.data_key, settings.data_keys_previous))
    request_scope.install(app, make_session_factory(engine), clock)
    return engine


def _install_web_basics(app: Flask, settings: Settings) -> None:
    """Request ids, security headers, CSRF and rate limits, for every page and API; and the
    site's shared templates and static files."""
    request_id.install(app)
    security.install(app, https_only=not settings.is_demo)
    csrf.install(app, authenticated_by_token)
    rate_limits.install(
        app,
        enabled=settings.rate_limits_enabled,
        storage_uri=settings.rate_limit_storage,
        limits=settings.rate_limits,
    )
    app.register_blueprint(site.blueprint())


def _install_operations(app: Flask, settings: Settings, engine: Engine) -> None:
    """What operators use: readiness, metrics, the API document, ``flask db`` and ``keys``."""
    health.add_check(app, "database", lambda: _ping(engine))
    health.install(app)
    if settings.metrics_enabled:
        metrics_endpoint.install(app, None if settings.metrics_public else settings.metrics_token)
    app.register_blueprint(api_docs)
    for group in (db_cli, keys_cli):
        app.cli.add_command(group)


def _commit_on_success(response: Response) -> Response:
    """One commit per request, only for success: an action and its audit event land together.
    Registered last, so it runs before every other after-request step."""
    if response.status_code < 400:
        request_scope.commit_if_open(commit_audited)
    else:
        request_scope.rollback_if_open()
    return response


def _ping(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
