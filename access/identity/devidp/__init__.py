"""The embedded development OpenID Connect provider, mounted at ``/dev-idp`` in demo mode only.

Demo users sign in by picking a persona; the app's OIDC client cannot tell it from Keycloak.
"""

from __future__ import annotations

from flask import Blueprint

from access.identity.devidp.models import DevIdpAuthorizationCode
from access.identity.devidp.provider import create_provider
from access.identity.devidp.views import register_views
from config import Settings

__all__ = ["DevIdpAuthorizationCode", "create_dev_idp_blueprint"]


def create_dev_idp_blueprint(settings: Settings) -> Blueprint:
    """Build the provider (and parse its key) once; register with ``url_prefix="/dev-idp"``."""
    provider = create_provider(settings)
    blueprint = Blueprint("dev_idp", __name__, template_folder="templates")
    register_views(blueprint, provider)
    return blueprint
