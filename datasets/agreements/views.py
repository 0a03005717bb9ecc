"""Pages of the data-use agreements: read and accept (researchers), publish (admins)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from access.identity.current_actor import current_actor
from access.identity.models import Role
from core.errors import Forbidden, NotFound
from core.web.request_scope import clock, db_session
from core.web.security import safe_next_path
from datasets.agreements.schemas import AgreementAcceptIn, AgreementPublishIn
from datasets.agreements.versions import (
    accept_agreement,
    agreement_page,
    agreement_status,
    publish_agreement,
)
from datasets.catalogue.queries import get_dataset

pages = Blueprint("agreements", __name__, template_folder="templates")


@pages.get("/datasets/<int:dataset_id>/agreement")
def read(dataset_id: int) -> str:
    dataset = get_dataset(db_session(), dataset_id)
    status = agreement_status(db_session(), current_actor(), dataset_id)
    if status.agreement is None:
        raise NotFound("This dataset has no data-use agreement.")
    return render_template("agreements/agreement.html", dataset=dataset, status=status,
                           after=safe_next_path(request.args.get("next")
                                                or f"/datasets/{dataset_id}"))


@pages.post("/datasets/<int:dataset_id>/agreement/accept")
def accept(dataset_id: int) -> Response:
    actor = current_actor()
    actor.require_user()
    try:
        data = AgreementAcceptIn().load({"version": _integer(request.form.get("version")),
                                         "sha256": request.form.get("sha256", "")})
    except ValidationError:
        flash("Not accepted: the form did not name a version and its hash.", "error")
        return redirect(agreement_page(dataset_id))
    accepted = accept_agreement(db_session(), actor, dataset_id, version=data["version"],
                                sha256=data["sha256"], now=clock().now())
    flash(f"You accepted version {data['version']} of the data-use agreement "
          f"(SHA-256 {accepted.sha256[:12]}…).", "success")
    return redirect(safe_next_path(request.form.get("next") or f"/datasets/{dataset_id}"))


@pages.route("/datasets/<int:dataset_id>/agreements/new", methods=["GET", "POST"])
def publish(dataset_id: int) -> Response | str | tuple[str, int]:
    actor = current_actor()
    actor.require_user()
    if not actor.has_role(Role.ADMIN):
        raise Forbidden("Only an administrator may publish a data-use agreement.")
    dataset = get_dataset(db_session(), dataset_id)
    status = agreement_status(db_session(), actor, dataset_id)
    if request.method == "GET":
        text = status.agreement.text if status.agreement else ""
        return render_template("agreements/publish.html", dataset=dataset,
                               status=status, text=text, errors={})
    text = request.form.get("text", "")
    try:
        AgreementPublishIn().load({"text": text})
    except ValidationError as exc:
        return render_template("agreements/publish.html", dataset=dataset,
                               status=status, text=text, errors=exc.messages), 400
    published = publish_agreement(db_session(), actor, dataset_id, text=text, now=clock().now())
    flash(f"Published version {published.version}; every user must accept it before their "
          "next download.", "success")
    return redirect(agreement_page(dataset_id))


def _integer(value: str | None) -> int | str | None:
    """HTML forms send text; the schema wants a strict integer."""
    return int(value) if value and value.isdigit() and len(value) < 10 else value
