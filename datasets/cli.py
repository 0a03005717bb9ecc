"""``flask demo ...`` (the embedded demo's set-up) and ``flask datasets ...`` (the catalogue)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from access.identity.actor import Actor
from access.identity.personas import DEMO_PERSONAS
from config import Settings
from core.request_scope import clock, session_factory
from datasets.demo import ensure_demo_committee, register_demo_study, set_up_demo
from datasets.errors import ManifestRejected
from datasets.manifest_import import import_manifest
from datasets.storage import Storage, StorageUnavailable

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


datasets_cli = AppGroup("datasets", help="The catalogue: register files held in storage.")
# Commands act as the system: whoever can run them already controls the host and its secrets.
OPERATOR = Actor(user=None)


@datasets_cli.command("import")
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(manifest: Path) -> None:
    """Register the stored objects MANIFEST lists, all or none.

    MANIFEST is a tab-separated file whose header names the columns location (the storage
    key), kind, tier, dataset (the consent group's accession), size, sha256, md5, and
    optionally name and description. Each object's size and checksums are checked in
    storage first; any bad line registers nothing.
    """
    try:
        text = manifest.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise click.ClickException(
            f"{manifest} is not UTF-8 text; nothing was registered.") from None
    try:
        with session_factory().begin() as session:
            registered = len(import_manifest(session, OPERATOR, text, storage=_storage(),
                                             now=clock().now()))
    except ManifestRejected as rejected:
        click.echo(f"{manifest}: {rejected.message}", err=True)
        for problem in rejected.problems:
            click.echo(f"  line {problem.line}: {problem.message}", err=True)
        raise SystemExit(1) from None
    except StorageUnavailable as exc:
        raise click.ClickException(
            f"storage is unavailable; nothing was registered: {exc}") from exc
    click.echo(f"Registered {registered} files from {manifest}.")


@datasets_cli.command("upload-demo")
def upload_demo_command() -> None:
    """Upload the synthetic demo study to the configured storage and register it (idempotent)."""
    now = clock().now()
    with session_factory().begin() as session:
        committee = ensure_demo_committee(session, OPERATOR, now=now)
        register_demo_study(session, OPERATOR, committee, storage=_storage(), now=now)
    click.echo("The synthetic demo study is in storage and in the catalogue; its committee "
               "has no members yet.")


def _storage() -> Storage:
    found: Storage = current_app.extensions["custodian.storage"]
    return found
