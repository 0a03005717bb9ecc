"""How the audit package plugs into the app: its checkpoint signer and alert rules on every
commit, its pages, its APIs and ``flask audit``."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from audit import extensions
from audit.integrity.api import api as integrity_api
from audit.integrity.checkpoints import CheckpointSigner
from audit.integrity.cli import audit_cli
from audit.log.alarm import writes_failing
from audit.on_commit import CommitHooks, install_commit_hooks
from audit.readers import AuditReader
from audit.review.alerts import AlertRules
from audit.review.api import api as review_api
from audit.review.names import AuditDirectory
from audit.review.views import pages as review_pages
from config import Settings
from core.web.health import Failing, add_check


def install(
    app: Flask,
    settings: Settings,
    *,
    session_factory: sessionmaker[Session],
    reader: Callable[[], AuditReader],
    directory: AuditDirectory,
) -> None:
    """``reader`` tells who reads the log and ``directory`` what its pages call people,
    datasets and files: the audit package cannot look them up itself."""
    signer = CheckpointSigner.from_seed(
        settings.audit_signing_key,
        origin=settings.audit_origin,
        every=settings.audit_checkpoint_every,
    )
    install_commit_hooks(
        session_factory,
        CommitHooks(
            signer, AlertRules(settings.alert_downloads_per_hour, settings.alert_refusals_per_hour)
        ),
    )
    extensions.keep(app, signer=signer, reader=reader)
    extensions.keep_directory(app, directory)
    for blueprint in (review_pages, review_api, integrity_api):
        app.register_blueprint(blueprint)
    app.add_template_global(extensions.may_read_audit, "may_read_audit")
    app.cli.add_command(audit_cli)
    add_check(app, "audit", _check_audit_writes, needs="database")


def _check_audit_writes() -> None:
    if writes_failing():
        raise Failing("the last audit write failed")
