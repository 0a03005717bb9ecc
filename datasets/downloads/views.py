"""The download button, and the local backend's file endpoint that serves signed URLs."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request, send_file
from werkzeug.wrappers import Response

from access.identity.current_actor import current_actor
from core.web.request_scope import clock, db_session
from datasets.downloads.signed_urls import issue_signed_url, open_signed_file
from datasets.extensions import storage, url_lifetime
from datasets.storage.local import LocalStorage

pages = Blueprint("downloads", __name__)


@pages.after_request
def _cors_for_signed_urls(response: Response) -> Response:
    """A signed URL is its own credential, so any page may fetch it (htsget asks data
    blocks to provide CORS): no cookie is needed or allowed. A single byte range is a
    CORS-safelisted header, so the blocks of a ticket need no preflight."""
    if request.path.startswith("/storage/"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = (
            "Content-Length, Content-Range, Accept-Ranges, ETag")
    return response


@pages.post("/files/<int:file_id>/download")
def download(file_id: int) -> Response:
    """The download button: issue a signed URL (audited) and send the browser to it."""
    issued = issue_signed_url(
        db_session(), current_actor(), file_id, storage=storage(), lifetime=url_lifetime(),
        now=clock().now(),
    )
    return redirect(issued.url, code=303)


@pages.get("/storage/<path:key>")
def serve_local_file(key: str) -> Response:
    backend = storage()
    if not isinstance(backend, LocalStorage):
        abort(404)
    served = open_signed_file(
        db_session(), current_actor(), backend, key=key,
        expires=request.args.get("expires", ""), user=request.args.get("user", ""),
        signature=request.args.get("signature", ""), byte_range=request.headers.get("Range"),
        now=clock().now(),
    )
    # conditional=True answers Range requests with 206 and the requested bytes only.
    response = send_file(served.path, as_attachment=True, download_name=served.record.name,
                         conditional=True, etag=served.record.sha256, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
