"""``flask db ...`` (schema migrations) and ``flask keys ...`` (secrets for the settings)."""

from __future__ import annotations

import secrets

import click
from flask import current_app
from flask.cli import AppGroup

from core import migrations

db_cli = AppGroup("db", help="Database schema migrations (Alembic).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade_command(revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    migrations.upgrade(current_app.extensions["custodian.engine"], revision)
    click.echo(f"Database migrated to {revision}.")


@db_cli.command("downgrade")
@click.argument("revision")
def downgrade_command(revision: str) -> None:
    """Migrate the database down to REVISION ("base" removes every table)."""
    migrations.downgrade(current_app.extensions["custodian.engine"], revision)
    click.echo(f"Database migrated down to {revision}.")


# A plain group, not an AppGroup, and a Flask plugin (pyproject's "flask.commands" entry
# point): Flask then finds it without building the app, so it runs before any setting exists.
keys_cli = click.Group("keys", help="Generate secrets for the settings (needs no settings).")


@keys_cli.command("generate")
def generate_key_command() -> None:
    """Print a new random key (384 bits) for CUSTODIAN_SECRET_KEY or CUSTODIAN_URL_SIGNING_KEY."""
    click.echo(secrets.token_urlsafe(48))
