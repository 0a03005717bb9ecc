"""``flask audit ...``: commands an operator or auditor runs against the database."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType

import click
from flask import current_app
from flask.cli import AppGroup

from audit.extensions import checkpoint_signer, sequencer
from audit.integrity.chain_check import cyclic_gc_paused
from audit.integrity.checkpoints import checkpoint_at, request_checkpoint
from audit.integrity.export_processes import default_export_processes, event_batches_in_processes
from audit.integrity.log_check import verify_log
from audit.integrity.log_export import CHAIN_WAIT_SECONDS, export_lines, start_log_export
from audit.integrity.signed_note import public_key_pem
from audit.log.actions import AuditAction, Outcome
from audit.log.alarm import commit_audited
from audit.log.append import SYSTEM, record_event
from audit.log.sequencing import backlog
from core.web.request_scope import clock, session_factory

audit_cli = AppGroup("audit", help="Verify and inspect the audit log.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Recompute the hash chain and every checkpoint, and look at the events not yet
    chained; exit 0 only if all are intact and none waits longer than
    CUSTODIAN_AUDIT_MAX_LAG_SECONDS."""
    max_lag = current_app.config["CUSTODIAN_SETTINGS"].audit_max_lag_seconds
    with session_factory()() as session:
        waiting = backlog(session, clock().now())
        checked = verify_log(session, checkpoint_signer())  # both checks, one read of the log
    report, checkpoints = checked.chain, checked.checkpoints
    behind = waiting.oldest_seconds > max_lag
    ok = report.ok and checkpoints.ok and not behind
    with session_factory()() as session:
        record_event(
            session,
            SYSTEM,
            AuditAction.AUDIT_VERIFY,
            now=clock().now(),
            outcome=Outcome.SUCCESS if ok else Outcome.ERROR,
            details={
                "events_checked": report.events_checked,
                "first_bad_seq": report.first_bad_seq,
                "checkpoints_checked": checkpoints.checkpoints_checked,
                "checkpoint_problem": checkpoints.problem,
                "unchained": waiting.unchained,
                "oldest_unchained_seconds": round(waiting.oldest_seconds, 3),
            },
        )
        commit_audited(session)
    unchained = (
        f"{waiting.unchained} event{'' if waiting.unchained == 1 else 's'} not yet "
        "chained"
        + (f", the oldest {waiting.oldest_seconds:.1f} s old" if waiting.unchained else "")
    )
    if ok:
        click.echo(
            f"OK: {report.events_checked} audit events verified; the chain is intact. "
            f"{checkpoints.checkpoints_checked} checkpoints verified. {unchained}."
        )
        return
    if not report.ok:
        current_app.logger.error(
            "audit chain verification failed at event %s", report.first_bad_seq
        )
        click.echo(
            f"FAILED: first bad event is seq {report.first_bad_seq}: {report.problem} "
            f"({report.events_checked} events before it verified)",
            err=True,
        )
    elif not checkpoints.ok:
        current_app.logger.error("audit checkpoint verification failed: %s", checkpoints.problem)
        click.echo(
            f"FAILED: {checkpoints.problem} ({checkpoints.checkpoints_checked} "
            "checkpoints before it verified)",
            err=True,
        )
    else:
        current_app.logger.error("audit events wait too long to be chained: %s", unchained)
        click.echo(
            f"FAILED: {unchained}, more than the {max_lag} s allowed "
            f"(CUSTODIAN_AUDIT_MAX_LAG_SECONDS); is the sequencer running? The "
            f"{report.events_checked} chained events verified.",
            err=True,
        )
    raise SystemExit(1)


@audit_cli.command("checkpoint")
def checkpoint_command() -> None:
    """Sign a checkpoint of the log as it is now (one is also signed every N events)."""
    with session_factory()() as session:
        entry = request_checkpoint(session, SYSTEM, clock().now())
        commit_audited(session)
    tree_size = sequencer().chained_seq(entry.id, timeout=CHAIN_WAIT_SECONDS)
    with session_factory()() as session:
        checkpoint = None if tree_size is None else checkpoint_at(session, tree_size)
    if checkpoint is None:
        click.echo(
            "FAILED: the checkpoint is asked for, but the sequencer has not chained "
            "it yet; it will be signed when it does.",
            err=True,
        )
        raise SystemExit(1)
    click.echo(checkpoint.note, nl=False)


@audit_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option(
    "--processes",
    type=click.IntRange(1, 64),
    default=None,
    help="Processes that encode the events (default: one per core, up to 4, on "
    "PostgreSQL; 1 on SQLite). The file is the same for any number.",
)
def export_command(path: Path, processes: int | None) -> None:
    """Write the whole log, its checkpoints and public keys to PATH (JSON Lines).

    Verify it anywhere with: python -m audit.verify PATH --public-key KEY.pem
    """
    now = clock().now()
    factory = session_factory()
    tree_size = start_log_export(factory, sequencer(), SYSTEM, destination=str(path), now=now)
    engine = factory.kw["bind"]
    if processes is None:
        processes = default_export_processes(engine.dialect.name)
    batches = None
    if processes > 1:
        batches = event_batches_in_processes(engine, tree_size, processes)
    # As in verify: a million lines' rows alive a batch at a time set off full collections
    # that find nothing (benchmarks/README.md). Here only: a worker streaming the API's
    # export serves other requests meanwhile.
    with factory() as session, path.open("wb") as out, cyclic_gc_paused():
        out.writelines(export_lines(session, tree_size, now=now, signer=checkpoint_signer(),
                                    batches=batches))
    click.echo(f"Exported {tree_size} audit events to {path}.")


@audit_cli.command("sequence")
def sequence_command() -> None:
    """Run the sequencer in this process until SIGTERM or SIGINT: it leads whenever no
    other process does (see AUDIT_SEQUENCER in the README)."""
    running = sequencer()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        running.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo("audit sequencer running", err=True)
    running.lead()


@audit_cli.command("public-key")
def public_key_command() -> None:
    """Print the public key that signs checkpoints (PEM), for python -m audit.verify."""
    click.echo(public_key_pem(checkpoint_signer().public_key), nl=False)
