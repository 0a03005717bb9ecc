"""Serving the OpenAPI document and an interactive page for it (Swagger UI).

Swagger UI's files come from the flask-swagger-ui package, served by us: no CDN is needed
and the page works under the CSP ``default-src 'self'`` (its start-up script is a file too).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import flask_swagger_ui
from flask import Blueprint, Response, current_app, jsonify, render_template

from config import Settings
from core.web.api_docs import OpenApiDocumentOut, build_document, documented

SWAGGER_UI = Path(flask_swagger_ui.__file__).parent / "dist"
_DOCUMENT = "custodian.openapi_document"

docs = Blueprint("api_docs", __name__, static_folder=str(SWAGGER_UI),
                 static_url_path="/api/docs/assets")


@docs.get("/api/v1/openapi.json")
@documented("This document: the OpenAPI 3 description of /api/v1", public=True,
            response=OpenApiDocumentOut)
def openapi_document() -> Response:
    return jsonify(api_document())


@docs.get("/api/docs")
def api_docs_page() -> str:
    return render_template("api_docs.html")


def api_document() -> dict[str, Any]:
    """Built once per app, on first use: every blueprint is registered by then."""
    found: dict[str, Any] | None = current_app.extensions.get(_DOCUMENT)
    if found is None:
        settings: Settings = current_app.config["CUSTODIAN_SETTINGS"]
        found = build_document(current_app, prefix="/api/v1/", title="Custodian API",
                               version="1", server_url=settings.public_url)
        current_app.extensions[_DOCUMENT] = found
    return found
