"""``flask datasets ...``: register objects already in storage in the catalogue."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from access.identity.actor import OPERATOR
from core.web.request_scope import clock, session_factory
from datasets.catalogue.manifest_import import import_manifest
from datasets.errors import ManifestRejected
from datasets.extensions import storage
from datasets.storage import StorageUnavailable

datasets_cli = AppGroup("datasets", help="The catalogue: register files held in storage.")


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
            registered = len(import_manifest(session, OPERATOR, text, storage=storage(),
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
