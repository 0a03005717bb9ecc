"""``flask demo ...``: the embedded demo's set-up."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from access.personas import DEMO_PERSONAS
from config import Settings
from core.request_scope import clock, session_factory
from datasets.demo import set_up_demo

demo_cli = AppGroup("demo", help="The embedded demo: personas, committee, synthetic study.")


@demo_cli.command("setup")
def setup_command() -> None:
    """Create the demo personas, committee and synthetic GTEx-like study (idempotent)."""
    settings: Settings = current_app.config["CUSTODIAN_SETTINGS"]
    if not settings.dev_idp_enabled:
        raise click.UsageError("The demo needs CUSTODIAN_ENV=demo (with the embedded IdP).")
    with session_factory().begin() as session:
        set_up_demo(session, issuer=settings.dev_idp_issuer,
                    storage=current_app.extensions["custodian.storage"], now=clock().now())
    click.echo("Demo study, committee and personas are ready.")
    click.echo(f"Open {settings.public_url}/ and sign in as one of:")
    for persona in DEMO_PERSONAS:
        click.echo(f"  {persona.username:<17} {persona.description}")
