"""The download button, and the local backend's file endpoint that serves signed URLs."""

from __future__ import annotations

import mimetypes

from flask import Blueprint, abort, redirect, request, send_file
from werkzeug.wrappers import Response

from access.identity.current_actor import current_actor, limit_url_issuance
from core.errors import DomainError
from core.web.rate_limits import count_failure, refuse_if_blocked
from core.web.request_scope import clock, db_session
from datasets.downloads.serving import open_signed_file
from datasets.downloads.signed_urls import issue_signed_url
from datasets.extensions import storage, store_health, url_lifetime
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
            "Content-Length, Content-Range, Accept-Ranges, ETag"
        )
    return response


@pages.post("/files/<int:file_id>/download")
def download(file_id: int) -> Response:
    """The download button: issue a signed URL (audited) and send the browser to it."""
    limit_url_issuance()
    issued = issue_signed_url(
        db_session(),
        current_actor(),
        file_id,
        storage=storage(),
        health=store_health(),
        lifetime=url_lifetime(),
        now=clock().now(),
    )
    return redirect(issued.url, code=303)


def media_type(name: str) -> str:
    """What the bytes are, not what the name's inner suffix suggests: ``x.vcf.gz`` is
    gzip (the standard library would say text/vcard), and anything else a download."""
    _, encoding = mimetypes.guess_type(name)
    return "application/gzip" if encoding == "gzip" else "application/octet-stream"


@pages.get("/storage/<path:key>")
def serve_local_file(key: str) -> Response:
    backend = storage()
    if not isinstance(backend, LocalStorage):
        abort(404)
    refuse_if_blocked("bad_urls")  # someone forging signatures from here
    try:
        served = open_signed_file(
            db_session(),
            current_actor(),
            backend,
            key=key,
            expires=request.args.get("expires", ""),
            user=request.args.get("user", ""),
            signature=request.args.get("signature", ""),
            byte_range=request.headers.get("Range"),
            now=clock().now(),
        )
    except DomainError:
        count_failure("bad_urls")
        raise
    # conditional=True answers Range requests with 206 and the requested bytes only.
    response = send_file(
        served.path,
        mimetype=media_type(served.record.name),
        as_attachment=True,
        download_name=served.record.name,
        conditional=True,
        etag=served.record.sha256,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
