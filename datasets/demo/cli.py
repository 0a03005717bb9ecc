"""``flask demo setup``: the embedded demo's personas, committee and synthetic study, and a
signed checkpoint of the audit log; and
``flask datasets upload-demo``, the same study in the configured storage."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from access.identity.actor import OPERATOR
from access.identity.personas import DEMO_PERSONAS
from audit.extensions import sequencer
from audit.integrity.checkpoints import request_checkpoint
from audit.integrity.log_export import CHAIN_WAIT_SECONDS
from audit.log.alarm import commit_audited
from audit.log.append import SYSTEM
from config import Settings
from core.web.request_scope import clock, session_factory
from datasets.demo.set_up import ensure_demo_committee, register_demo_study, set_up_demo
from datasets.extensions import storage

demo_cli = AppGroup("demo", help="The embedded demo: personas, committee, synthetic study.")


@demo_cli.command("setup")
def setup_command() -> None:
    """Create the demo personas, committee and synthetic GTEx-like study (idempotent)."""
    settings: Settings = current_app.config["CUSTODIAN_SETTINGS"]
    if not settings.dev_idp_enabled:
        raise click.UsageError("The demo needs CUSTODIAN_ENV=demo (with the embedded IdP).")
    with session_factory().begin() as session:
        set_up_demo(session, issuer=settings.dev_idp_issuer,
                    storage=storage(), now=clock().now())
    # So that the auditors' pages have a signed checkpoint to show and prove events against
    # from the start, not only after the first 1,000 events.
    with session_factory()() as session:
        asked = request_checkpoint(session, SYSTEM, clock().now())
        commit_audited(session)
    signed = sequencer().chained_seq(asked.id, timeout=CHAIN_WAIT_SECONDS)
    click.echo("Demo study, committee and personas are ready; "
               + (f"the audit log's {signed} events are in a signed checkpoint." if signed
                  else "the audit log's checkpoint is signed once the sequencer runs."))
    click.echo(f"Open {settings.public_url}/ and sign in as one of:")
    for persona in DEMO_PERSONAS:
        click.echo(f"  {persona.username:<17} {persona.description}")


@click.command("upload-demo")
@with_appcontext
def upload_demo_command() -> None:
    """Upload the synthetic demo study to the configured storage and register it (idempotent)."""
    now = clock().now()
    with session_factory().begin() as session:
        committee = ensure_demo_committee(session, OPERATOR, now=now)
        register_demo_study(session, OPERATOR, committee, storage=storage(), now=now)
    click.echo("The synthetic demo study is in storage and in the catalogue; its committee "
               "has no members yet.")
