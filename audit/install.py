"""How the audit package plugs into the app: its sequencer (audit/log/sequencing.py), with
the checkpoint signer and alert rules it applies, its pages, its APIs and ``flask audit``."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from audit import extensions
from audit.integrity.api import api as integrity_api
from audit.integrity.checkpoints import CheckpointSigner
from audit.integrity.cli import audit_cli
from audit.log.alarm import writes_failing
from audit.log.sequencing import Sequencer, backlog, integrate_in_transaction
from audit.readers import AuditReader
from audit.review.alerts import AlertRules
from audit.review.api import api as review_api
from audit.review.names import AuditDirectory
from audit.review.views import pages as review_pages
from config import Settings
from core.clock import Clock
from core.web.health import Failing, add_check


def install(
    app: Flask,
    settings: Settings,
    *,
    engine: Engine,
    session_factory: sessionmaker[Session],
    clock: Clock,
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
    sequencer = Sequencer(
        engine,
        session_factory,
        signer,
        AlertRules(settings.alert_downloads_per_hour, settings.alert_refusals_per_hour),
        clock,
        batch_size=settings.audit_sequencer_batch,
        interval=settings.audit_sequencer_interval_ms / 1000,
    )
    if settings.audit_sequencer == "in_transaction":
        integrate_in_transaction(session_factory, sequencer)
    else:  # started with the first request: a CLI command hosts none, a forked worker its own
        app.before_request(sequencer.start)
    extensions.keep(app, signer=signer, sequencer=sequencer, reader=reader)
    extensions.keep_directory(app, directory)
    for blueprint in (review_pages, review_api, integrity_api):
        app.register_blueprint(blueprint)
    app.add_template_global(extensions.may_read_audit, "may_read_audit")
    app.cli.add_command(audit_cli)
    add_check(app, "audit", _check_audit_writes, needs="database")
    add_check(
        app,
        "audit_sequencer",
        lambda: _check_backlog(session_factory, clock, settings.audit_max_lag_seconds),
        needs="database",
    )


def _check_audit_writes() -> None:
    if writes_failing():
        raise Failing("the last audit write failed")


def _check_backlog(
    factory: sessionmaker[Session], clock: Clock, max_lag: int
) -> Mapping[str, float]:
    with factory() as session:
        found = backlog(session, clock.now())
    figures = {"unchained": found.unchained, "oldest_seconds": round(found.oldest_seconds, 3)}
    if found.oldest_seconds > max_lag:
        raise Failing(f"audit events wait more than {max_lag} s to be chained", figures)
    return figures
