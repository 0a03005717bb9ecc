"""The core blueprint: the templates and static files every page shares, and the site icon."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, request
from werkzeug.wrappers import Response

from core.web.request_scope import database_unavailable
from core.web.security import safe_next_path

ICON_MAX_AGE = 86_400  # a day: the icon seldom changes, and costs a request per page otherwise


def blueprint() -> Blueprint:
    site = Blueprint(
        "core",
        __name__,
        static_folder="static",
        static_url_path="/static",
        template_folder="templates",
    )

    @site.get("/favicon.ico")
    def favicon() -> Response:
        # Pages name the SVG icon; browsers still ask for /favicon.ico where a page names
        # none (Swagger UI, JSON answers). One icon serves both.
        icon = site.send_static_file("favicon.svg")
        icon.cache_control.max_age = ICON_MAX_AGE
        icon.cache_control.public = True
        return icon

    # An outage page offers no sign-in: signing in needs the database too.
    site.add_app_template_global(database_unavailable, "database_unavailable")

    @site.app_template_global()
    def sign_in_link() -> str:
        """The header's "Sign in": back to this page afterwards, unless this page is part
        of the sign-in (then the catalogue), so signing in never loops."""
        after = safe_next_path(request.full_path.rstrip("?"), default="")
        return f"/auth/login?{urlencode({'next': after})}" if after else "/auth/login"

    return site
