"""How the access package plugs into the app: who is asking (session or token), the OIDC
clients, the pages and APIs of identity, requests, passports, tokens and committees, the
embedded IdP in demo mode, ``flask notify`` and ``flask users``."""

from __future__ import annotations

from flask import Flask

from access import extensions
from access.api import api as access_api
from access.duo.codes import describe
from access.identity import current_actor, oidc
from access.identity.api import api as identity_api
from access.identity.cli import users_cli
from access.identity.devidp import create_dev_idp_blueprint
from access.identity.views import pages as identity_pages
from access.notifications.cli import notify_cli
from access.passports.api import api as passports_api
from access.passports.broker_keys import JwksFetcher
from access.passports.verify import PassportVerifier
from access.passports.visas import signer_from
from access.ports import DatasetDirectory
from access.requests.api import api as requests_api
from access.requests.notices import Notices
from access.requests.views import pages as requests_pages
from access.views import pages as access_pages
from config import Settings


def install(app: Flask, settings: Settings, *, directory: DatasetDirectory) -> None:
    """``directory`` is the catalogue as access sees it (access/ports.py)."""
    extensions.keep(
        app,
        extensions.AccessExtensions(
            directory=directory,
            passport_verifier=PassportVerifier(
                settings.passport_trusted_brokers, JwksFetcher(), directory, settings.public_url
            ),
            visa_signer=signer_from(settings),
            notices=Notices(settings.public_url),  # links in notification emails
        ),
    )
    current_actor.install(app)
    oidc.install(app, settings)
    for blueprint in (
        identity_pages,
        identity_api,
        requests_pages,
        requests_api,
        access_pages,
        access_api,
        passports_api,
    ):
        app.register_blueprint(blueprint)
    if settings.dev_idp_enabled:
        app.register_blueprint(create_dev_idp_blueprint(settings), url_prefix="/dev-idp")
    app.add_template_global(describe, "duo")
    app.cli.add_command(notify_cli)
    app.cli.add_command(users_cli)
