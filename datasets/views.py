"""Pages of the catalogue, the download button, and the local backend's file endpoint.

This file lists every page URL of the package; the JSON API is in api.py.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, send_file
from werkzeug.wrappers import Response

from access.grants import live_grants_of
from access.identity.current_actor import current_actor
from core.request_scope import clock, db_session
from datasets.agreements import agreement_status
from datasets.api import storage, url_lifetime
from datasets.catalogue import get_dataset, list_studies
from datasets.downloads import issue_signed_url, open_signed_file
from datasets.storage.local import LocalStorage

pages = Blueprint("datasets", __name__, template_folder="templates")


@pages.get("/")
def catalogue() -> str:
    return render_template("datasets/catalogue.html", studies=list_studies(db_session()))


@pages.get("/datasets/<int:dataset_id>")
def dataset(dataset_id: int) -> str:
    found = get_dataset(db_session(), dataset_id)
    actor = current_actor()
    grant = None
    if actor.user is not None:
        grant = next((g for g in live_grants_of(db_session(), actor.user.id, clock().now())
                      if g.dataset_id == dataset_id), None)
    agreement = agreement_status(db_session(), actor, dataset_id)
    return render_template("datasets/dataset.html", dataset=found, grant=grant,
                           agreement=agreement)


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
