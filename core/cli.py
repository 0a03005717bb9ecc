"""``flask db ...`` (schema migrations) and ``flask keys ...`` (secrets for the settings)."""

from __future__ import annotations

import secrets

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from core import db_roles, migrations
from core.db import Base
from core.field_encryption import data_keys_of, encrypted_columns, rewrite_column

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
@db_cli.command("grant-app-role")
@click.argument("role")
def grant_app_role_command(role: str) -> None:
    """Give ROLE, the app's own PostgreSQL role, exactly the grants it needs (run as the
    schema's owner after every `db upgrade`; running it again changes nothing)."""
    try:
        granted = db_roles.grant_app_role(current_app.extensions["custodian.engine"], role)
    except db_roles.RoleProblem as problem:
        raise click.ClickException(str(problem)) from None
    click.echo(
        f"Granted {granted.role} in schema {granted.schema}: SELECT, INSERT, UPDATE, DELETE on "
        f"{len(granted.read_write)} tables; only SELECT, INSERT on "
        f"{', '.join(granted.append_only) or 'no table'} (append-only); only SELECT, INSERT "
        f"and the DELETE its trigger checks on {', '.join(granted.queues) or 'no table'} "
        f"(the audit queue); only SELECT on "
        f"{', '.join(granted.read_only)}; USAGE on the sequences."
    )


keys_cli = click.Group("keys", help="Generate secrets for the settings (needs no settings).")


@keys_cli.command("generate")
def generate_key_command() -> None:
    """Print a new random key (384 bits) for CUSTODIAN_SECRET_KEY, CUSTODIAN_URL_SIGNING_KEY or
    CUSTODIAN_DATA_KEY."""
    click.echo(secrets.token_urlsafe(48))


@keys_cli.command("reencrypt")
@with_appcontext
def reencrypt_command() -> None:
    """Re-encrypt with CUSTODIAN_DATA_KEY what a previous data key encrypted; afterwards the
    previous key can be removed. One transaction: all or nothing."""
    engine = current_app.extensions["custodian.engine"]
    keys = data_keys_of(engine.dialect)
    with engine.begin() as connection:
        for target in encrypted_columns(Base.metadata.sorted_tables):
            changed = rewrite_column(connection, target, keys)
            click.echo(f"{target.context}: {changed} re-encrypted")
