"""How the datasets package plugs into the app: the storage backend and URL lifetimes, the
pages and APIs of the catalogue, agreements, downloads, DRS, htsget and open results, and
``flask datasets``, ``flask demo`` and ``flask results``."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask

from config import Settings
from core.web.error_handling import register_error_shape
from core.web.health import add_check
from core.web.security import allow_form_target
from datasets import extensions
from datasets.agreements.api import api as agreements_api
from datasets.agreements.views import pages as agreements_pages
from datasets.catalogue.api import api as catalogue_api
from datasets.catalogue.cli import datasets_cli
from datasets.catalogue.views import pages as catalogue_pages
from datasets.demo.cli import demo_cli, upload_demo_command
from datasets.downloads.api import api as downloads_api
from datasets.downloads.signed_urls import UrlLifetime
from datasets.downloads.views import pages as downloads_pages
from datasets.drs.api import PREFIX as DRS_PREFIX
from datasets.drs.api import api as drs_api
from datasets.drs.api import error_shape as drs_error_shape
from datasets.htsget.api import PREFIX as HTSGET_PREFIX
from datasets.htsget.api import api as htsget_api
from datasets.htsget.api import error_shape as htsget_error_shape
from datasets.results.api import api as results_api
from datasets.results.cli import results_cli
from datasets.results.views import pages as results_pages
from datasets.storage import make_storage
from datasets.storage.health import StoreHealth


def install(app: Flask, settings: Settings) -> None:
    storage = make_storage(settings)
    health = StoreHealth(storage.check)
    extensions.keep(
        app,
        storage=storage,
        health=health,
        url_lifetime=UrlLifetime(
            settings.signed_url_default_seconds, settings.signed_url_max_seconds
        ),
    )
    add_check(app, "storage", health.check)  # each probe refreshes what URL issuance trusts
    for origin in download_origins(settings):
        allow_form_target(app, origin)  # the download button redirects there
    register_error_shape(app, DRS_PREFIX + "/", drs_error_shape)
    register_error_shape(app, HTSGET_PREFIX + "/", htsget_error_shape)
    for blueprint in (
        catalogue_pages,
        catalogue_api,
        downloads_pages,
        downloads_api,
        agreements_pages,
        agreements_api,
        results_pages,
        results_api,
        drs_api,
        htsget_api,
    ):
        app.register_blueprint(blueprint)
    datasets_cli.add_command(upload_demo_command)
    for group in (datasets_cli, demo_cli, results_cli):
        app.cli.add_command(group)


def download_origins(settings: Settings) -> tuple[str, ...]:
    """Where presigned URLs point, beside this site: the S3 endpoint (and its bucket
    subdomains, for virtual-host addressing), or AWS's."""
    if settings.storage_backend != "s3":
        return ()
    if settings.s3_endpoint_url is None:
        return ("https://*.amazonaws.com",)
    parts = urlsplit(settings.s3_endpoint_url)
    return (f"{parts.scheme}://{parts.netloc}", f"{parts.scheme}://*.{parts.netloc}")
