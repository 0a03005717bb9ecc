"""The application factory: settings, extensions, blueprints, error handlers, CLI groups."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request
from sqlalchemy import text
from werkzeug.middleware.proxy_fix import ProxyFix

import access.oidc
import access.web
import audit.install
import audit.log.alarm
import core.csrf
import core.error_handling
import core.health
import core.log_redaction
import core.logging_setup
import core.metrics_web
import core.request_id
import core.request_scope
import core.routing
import core.security
import core.site
from access.api import api as access_api
from access.cli import notify_cli
from access.devidp import create_dev_idp_blueprint
from access.duo import describe
from access.jwks_fetch import JwksFetcher
from access.passport_api import SIGNER, VERIFIER
from access.passport_api import api as passport_api
from access.passport_verify import PassportVerifier
from access.request_notices import attach_public_url
from access.views import pages as access_pages
from access.visas import signer_from
from audit.log.actions import AuditAction
from audit.log.append import record_refusal
from audit.readers import AuditReader, reader_for
from config import Settings, load_settings
from core.api_docs_web import docs as api_docs
from core.cli import db_cli, keys_cli
from core.clock import Clock, SystemClock
from core.db import make_engine, make_session_factory
from core.errors import RefusalNote
from datasets.agreement_views import pages as agreement_pages
from datasets.agreements_api import api as agreements_api
from datasets.api import api as datasets_api
from datasets.catalogue import CatalogueDirectory
from datasets.cli import datasets_cli, demo_cli
from datasets.downloads import UrlLifetime
from datasets.drs_api import PREFIX as DRS_PREFIX
from datasets.drs_api import api as drs_api
from datasets.drs_api import error_shape as drs_error_shape
from datasets.results_api import api as results_api
from datasets.results_cli import results_cli
from datasets.results_views import pages as results_pages
from datasets.storage import make_storage
from datasets.views import pages as datasets_pages


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Flask:
    settings = settings or load_settings(overrides=overrides)
    app = Flask(__name__, static_folder=None)
    core.routing.install(app)
    if settings.trusted_proxies:
        # Only behind that many proxies may X-Forwarded-For/-Proto be believed (audit IPs).
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )
    _configure_flask(app, settings)

    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size,
                         max_overflow=settings.db_max_overflow,
                         pool_timeout=settings.db_pool_timeout_seconds)
    session_factory = make_session_factory(engine)
    attach_public_url(session_factory, settings.public_url)  # links in notification emails
    clock = clock or SystemClock()
    storage = make_storage(settings)
    app.extensions["custodian.engine"] = engine
    app.extensions["custodian.storage"] = storage
    app.extensions["custodian.url_lifetime"] = UrlLifetime(
        settings.signed_url_default_seconds, settings.signed_url_max_seconds
    )
    app.extensions["custodian.dataset_directory"] = CatalogueDirectory()
    app.extensions[SIGNER] = signer_from(settings)
    app.extensions[VERIFIER] = PassportVerifier(
        settings.passport_trusted_brokers, JwksFetcher(), CatalogueDirectory(),
        settings.public_url)

    core.request_id.install(app)
    core.request_scope.install(app, session_factory, clock)
    audit.install.install(app, settings, session_factory=session_factory, reader=_audit_reader)
    core.security.install(app)
    core.csrf.install(app)
    access.web.install(app)
    access.oidc.install(app, settings)
    core.error_handling.install(app, _refusal_recorder(app))
    core.error_handling.register_error_shape(app, DRS_PREFIX + "/", drs_error_shape)
    core.health.install(app, {"database": lambda: _ping(app), "storage": storage.check,
                              "audit": _check_audit_writes})
    if settings.metrics_enabled:
        core.metrics_web.install(app, None if settings.metrics_public else settings.metrics_token)
    app.after_request(_commit_on_success)

    app.register_blueprint(core.site.blueprint(app.root_path))
    app.register_blueprint(access_pages)
    app.register_blueprint(access_api)
    app.register_blueprint(passport_api)
    app.register_blueprint(datasets_pages)
    app.register_blueprint(datasets_api)
    app.register_blueprint(agreement_pages)
    app.register_blueprint(agreements_api)
    app.register_blueprint(results_pages)
    app.register_blueprint(results_api)
    app.register_blueprint(drs_api)
    app.register_blueprint(api_docs)
    if settings.dev_idp_enabled:
        app.register_blueprint(create_dev_idp_blueprint(settings), url_prefix="/dev-idp")
    app.add_template_global(describe, "duo")

    for group in (db_cli, keys_cli, demo_cli, datasets_cli, results_cli,
                  notify_cli):
        app.cli.add_command(group)
    return app


def _configure_flask(app: Flask, settings: Settings) -> None:
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
    core.logging_setup.install(settings.log_format)
    core.log_redaction.install()


def _commit_on_success(response: Response) -> Response:
    """One commit per request, only for success: an action and its audit event land together."""
    if response.status_code < 400:
        core.request_scope.commit_if_open(audit.log.alarm.commit_audited)
    else:
        core.request_scope.rollback_if_open()
    return response


def _refusal_recorder(app: Flask) -> core.error_handling.RefusalRecorder:
    def record(note: RefusalNote) -> None:
        actor = access.web.current_actor()
        record_refusal(
            core.request_scope.session_factory(), actor.audit(), AuditAction(note.action),
            now=core.request_scope.clock().now(), target_type=note.target_type,
            target_id=note.target_id, details=note.details,
        )

    return record


def _audit_reader() -> AuditReader:
    """audit cannot see users: it is told who reads, by their global roles (see permissions)."""
    actor = access.web.current_actor()
    user = actor.require_user()
    roles = frozenset(a.role for a in user.roles if not a.scope)
    return reader_for(user.id, roles, actor.audit(), path=request.path)


def _check_audit_writes() -> None:
    if audit.log.alarm.writes_failing():
        raise core.health.Failing("the last audit write failed")


def _ping(app: Flask) -> None:
    with app.extensions["custodian.engine"].connect() as connection:
        connection.execute(text("SELECT 1"))
