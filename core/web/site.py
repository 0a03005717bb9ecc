"""The core blueprint: the templates and static files every page shares, and the site icon."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.wrappers import Response

ICON_MAX_AGE = 86_400  # a day: the icon seldom changes, and costs a request per page otherwise


def blueprint() -> Blueprint:
    site = Blueprint("core", __name__, static_folder="static", static_url_path="/static",
                     template_folder="templates")

    @site.get("/favicon.ico")
    def favicon() -> Response:
        # Pages name the SVG icon; browsers still ask for /favicon.ico where a page names
        # none (Swagger UI, JSON answers). One icon serves both.
        icon = site.send_static_file("favicon.svg")
        icon.cache_control.max_age = ICON_MAX_AGE
        icon.cache_control.public = True
        return icon

    return site
