"""``flask audit ...``: commands an operator or auditor runs against the database."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from audit.actions import AuditAction, Outcome
from audit.services import SYSTEM, record_event, verify_chain
from core.request_scope import clock, session_factory

audit_cli = AppGroup("audit", help="Verify and inspect the audit log.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Recompute the hash chain; exit 0 only if every event is intact."""
    with session_factory()() as session:
        report = verify_chain(session)
    with session_factory().begin() as session:
        record_event(
            session, SYSTEM, AuditAction.AUDIT_VERIFY, now=clock().now(),
            outcome=Outcome.SUCCESS if report.ok else Outcome.ERROR,
            details={"events_checked": report.events_checked,
                     "first_bad_seq": report.first_bad_seq},
        )
    if report.ok:
        click.echo(f"OK: {report.events_checked} audit events verified; the chain is intact.")
        return
    current_app.logger.error("audit chain verification failed at event %s", report.first_bad_seq)
    click.echo(
        f"FAILED: first bad event is seq {report.first_bad_seq}: {report.problem} "
        f"({report.events_checked} events before it verified)",
        err=True,
    )
    raise SystemExit(1)
