"""``flask audit ...``: commands an operator or auditor runs against the database."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from audit.extensions import checkpoint_signer
from audit.integrity.chain_check import verify_chain
from audit.integrity.checkpoints import checkpoint_now, verify_checkpoints
from audit.integrity.log_export import start_log_export, stream_log_export
from audit.integrity.signed_note import public_key_pem
from audit.log.actions import AuditAction, Outcome
from audit.log.append import SYSTEM, record_event
from core.web.request_scope import clock, session_factory

audit_cli = AppGroup("audit", help="Verify and inspect the audit log.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Recompute the hash chain and every checkpoint; exit 0 only if all are intact."""
    with session_factory()() as session:
        report = verify_chain(session)
        checkpoints = verify_checkpoints(session, checkpoint_signer())
    with session_factory().begin() as session:
        record_event(
            session, SYSTEM, AuditAction.AUDIT_VERIFY, now=clock().now(),
            outcome=Outcome.SUCCESS if report.ok and checkpoints.ok else Outcome.ERROR,
            details={"events_checked": report.events_checked,
                     "first_bad_seq": report.first_bad_seq,
                     "checkpoints_checked": checkpoints.checkpoints_checked,
                     "checkpoint_problem": checkpoints.problem},
        )
    if report.ok and checkpoints.ok:
        click.echo(f"OK: {report.events_checked} audit events verified; the chain is intact. "
                   f"{checkpoints.checkpoints_checked} checkpoints verified.")
        return
    if report.ok:
        current_app.logger.error("audit checkpoint verification failed: %s", checkpoints.problem)
        click.echo(f"FAILED: {checkpoints.problem} ({checkpoints.checkpoints_checked} "
                   "checkpoints before it verified)", err=True)
        raise SystemExit(1)
    current_app.logger.error("audit chain verification failed at event %s", report.first_bad_seq)
    click.echo(
        f"FAILED: first bad event is seq {report.first_bad_seq}: {report.problem} "
        f"({report.events_checked} events before it verified)",
        err=True,
    )
    raise SystemExit(1)


@audit_cli.command("checkpoint")
def checkpoint_command() -> None:
    """Sign a checkpoint of the log as it is now (one is also signed every N events)."""
    with session_factory().begin() as session:
        checkpoint = checkpoint_now(session, SYSTEM, clock().now(), checkpoint_signer())
    click.echo(checkpoint.note, nl=False)


@audit_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def export_command(path: Path) -> None:
    """Write the whole log, its checkpoints and public keys to PATH (JSON Lines).

    Verify it anywhere with: python -m audit.verify PATH --public-key KEY.pem
    """
    now = clock().now()
    with session_factory().begin() as session:
        tree_size = start_log_export(session, SYSTEM, destination=str(path), now=now,
                                     signer=checkpoint_signer()).tree_size
    with path.open("w", encoding="utf-8") as out:
        out.writelines(stream_log_export(session_factory(), tree_size, now=now,
                                         signer=checkpoint_signer()))
    click.echo(f"Exported {tree_size} audit events to {path}.")


@audit_cli.command("public-key")
def public_key_command() -> None:
    """Print the public key that signs checkpoints (PEM), for python -m audit.verify."""
    click.echo(public_key_pem(checkpoint_signer().public_key), nl=False)
