"""Pages of the catalogue: every study, and one dataset with its files and what the
visitor may do with them; and the admins' pages that register and change them.

This file lists every page URL of the catalogue; the JSON API is in api.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import Blueprint, current_app, flash, redirect, render_template, request
from werkzeug.wrappers import Response

from access.committees import list_committees
from access.grants import live_grants_of
from access.identity.current_actor import current_actor
from access.roles import require_admin
from config import Settings
from core.errors import Conflict, InvalidInput
from core.web.confirmation import Confirmation, confirmation_page, is_confirmed
from core.web.forms import load_or_flash
from core.web.request_scope import clock, db_session, rollback_if_open
from datasets.agreements.versions import agreement_status
from datasets.catalogue import editing, stored_objects
from datasets.catalogue.download_manifest import drs_uri, manifest_filename
from datasets.catalogue.manifest_import import import_manifest
from datasets.catalogue.models import FileKind
from datasets.catalogue.queries import get_dataset, get_file, list_studies, live_file_counts
from datasets.catalogue.schemas import (
    DatasetIn,
    DatasetUpdateIn,
    FileIn,
    FileUpdateIn,
    PrefixIn,
    StudyIn,
    StudyUpdateIn,
)
from datasets.downloads.standing import download_standing
from datasets.errors import ManifestRejected
from datasets.extensions import storage

pages = Blueprint("catalogue", __name__, template_folder="templates")


@pages.get("/")
def catalogue() -> str:
    session = db_session()
    return render_template("catalogue/catalogue.html", studies=list_studies(session),
                           file_counts=live_file_counts(session))


@pages.get("/datasets/<int:dataset_id>")
def dataset(dataset_id: int) -> str:
    found = get_dataset(db_session(), dataset_id)
    actor = current_actor()
    grant = None
    if actor.user is not None:
        grant = next(
            (
                g
                for g in live_grants_of(db_session(), actor.user.id, clock().now())
                if g.dataset_id == dataset_id
            ),
            None,
        )
    agreement = agreement_status(db_session(), actor, dataset_id)
    settings: Settings = current_app.config["CUSTODIAN_SETTINGS"]
    return render_template(
        "catalogue/dataset.html", dataset=found, grant=grant, agreement=agreement,
        standing=download_standing(db_session(), actor, found, clock().now()),
        public_url=settings.public_url.rstrip("/"), manifest_name=manifest_filename(found),
        drs_uri=drs_uri,
    )


# --- catalogue administration (admins): the same use cases and schemas as the JSON API ------


@pages.get("/admin/catalogue")
def admin_catalogue() -> str:
    require_admin(current_actor(), "catalogue_show")
    session = db_session()
    return render_template(
        "catalogue/admin_catalogue.html",
        studies=list_studies(session),
        file_counts=live_file_counts(session),
        committees=list_committees(session),
    )


@pages.post("/admin/studies")
def admin_create_study() -> Response:
    require_admin(current_actor(), "study_create")  # before the form is read
    data = load_or_flash(StudyIn(), _text(request.form, "accession", "title", "description"))
    if (
        data is not None
        and _done(
            lambda: editing.create_study(db_session(), current_actor(), now=clock().now(), **data)
        )
        is not None
    ):
        flash(f"Study {data['accession']} registered.", "success")
    return redirect("/admin/catalogue")


@pages.post("/admin/studies/<int:study_id>")
def admin_update_study(study_id: int) -> Response:
    require_admin(current_actor(), "study_update")  # before the form is read
    changes = load_or_flash(StudyUpdateIn(), _text(request.form, "title", "description"))
    if (
        changes is not None
        and _done(
            lambda: editing.update_study(
                db_session(), current_actor(), study_id, changes=changes, now=clock().now()
            )
        )
        is not None
    ):
        flash("Study saved.", "success")
    return redirect("/admin/catalogue")


@pages.post("/admin/manifest")
def admin_import_manifest() -> Response:
    """The CLI's ``flask datasets import`` from a page: an uploaded TSV, all of it or none."""
    actor = current_actor()
    require_admin(actor, "file_register")
    upload = request.files.get("manifest")
    try:
        text = upload.read().decode("utf-8") if upload else ""
    except UnicodeDecodeError:
        text = None
    if not text:
        flash("Not done: choose a UTF-8 manifest file (TSV).", "error")
        return redirect("/admin/catalogue")
    try:
        with stored_objects.store_answers():
            made = import_manifest(db_session(), actor, text, storage=storage(), now=clock().now())
    except ManifestRejected as rejected:
        rollback_if_open()
        flash(f"Not done: {rejected.message}", "error")
        for problem in rejected.problems[:MAX_SHOWN_PROBLEMS]:
            flash(f"Line {problem.line}: {problem.message}", "error")
        return redirect("/admin/catalogue")
    flash(f"Registered {len(made)} files from the manifest.", "success")
    return redirect("/admin/catalogue")


@pages.post("/admin/datasets")
def admin_create_dataset() -> Response:
    require_admin(current_actor(), "dataset_create")  # before the form is read
    data = load_or_flash(DatasetIn(), _dataset_form(request.form))
    made = None
    if data is not None:
        made = _done(
            lambda: editing.create_dataset(
                db_session(), current_actor(), fields=data, now=clock().now()
            )
        )
    if made is None:
        return redirect("/admin/catalogue")
    flash(f"Dataset {made.accession} registered.", "success")
    return redirect(f"/admin/datasets/{made.id}")


@pages.get("/admin/datasets/<int:dataset_id>")
def admin_dataset(dataset_id: int) -> str:
    return _dataset_page(dataset_id)


@pages.post("/admin/datasets/<int:dataset_id>")
def admin_update_dataset(dataset_id: int) -> Response:
    require_admin(current_actor(), "dataset_update")  # before the form is read
    changes = load_or_flash(DatasetUpdateIn(), _dataset_form(request.form))
    if (
        changes is not None
        and _done(
            lambda: editing.update_dataset(
                db_session(), current_actor(), dataset_id, changes=changes, now=clock().now()
            )
        )
        is not None
    ):
        flash("Dataset saved.", "success")
    return redirect(f"/admin/datasets/{dataset_id}")


@pages.post("/admin/datasets/<int:dataset_id>/files")
def admin_register_file(dataset_id: int) -> Response:
    require_admin(current_actor(), "file_register")  # before the form is read
    form = _text(request.form, "key", "kind", "name", "description", "sha256", "md5")
    form.update(_optional(request.form, "index_key", "index_sha256"))
    size = request.form.get("size", "")
    form["size"] = int(size) if size.isdigit() else size
    data = load_or_flash(FileIn(), {name: value for name, value in form.items() if value != ""})
    if data is not None:
        dataset = get_dataset(db_session(), dataset_id)
        made = _done(
            lambda: stored_objects.register_stored_file(
                db_session(),
                current_actor(),
                dataset_id,
                stored_objects.file_record(data, dataset),
                index_key=data["index_key"],
                index_sha256=data["index_sha256"],
                storage=storage(),
                now=clock().now(),
            )
        )
        if made is not None:
            flash(f"File {made.name} registered.", "success")
    return redirect(f"/admin/datasets/{dataset_id}")


@pages.post("/admin/datasets/<int:dataset_id>/files/prefix")
def admin_register_prefix(dataset_id: int) -> Response | str:
    require_admin(current_actor(), "file_register")  # before the form is read
    form = _text(request.form, "prefix", "description")
    form.update(_optional(request.form, "kind"))
    form["dry_run"] = request.form.get("dry_run") == "on"
    data = load_or_flash(PrefixIn(), form)
    plan = None
    if data is not None:
        plan = _done(
            lambda: stored_objects.register_prefix(
                db_session(),
                current_actor(),
                dataset_id,
                prefix=data["prefix"],
                kind=FileKind(data["kind"]) if data["kind"] else None,
                description=data["description"],
                dry_run=data["dry_run"],
                storage=storage(),
                now=clock().now(),
            )
        )
    if plan is not None and data is not None and data["dry_run"]:
        return _dataset_page(dataset_id, plan=plan, prefix_form=form)
    if plan is not None:
        flash(f"Registered {len(plan.registered)} files; skipped {len(plan.skipped)}.", "success")
    return redirect(f"/admin/datasets/{dataset_id}")


@pages.post("/admin/files/<int:file_id>")
def admin_update_file(file_id: int) -> Response:
    require_admin(current_actor(), "file_update")  # before the form is read
    changes = load_or_flash(FileUpdateIn(), _text(request.form, "description"))
    found = None
    if changes is not None:
        found = _done(
            lambda: editing.update_file(
                db_session(), current_actor(), file_id, changes=changes, now=clock().now()
            )
        )
        if found is not None:
            flash(f"File {found.name} saved.", "success")
    return redirect(f"/admin/datasets/{get_file(db_session(), file_id).dataset_id}")


@pages.post("/admin/files/<int:file_id>/retire")
def admin_retire_file(file_id: int) -> Response | str:
    actor = current_actor()
    require_admin(actor, "file_retire")
    found = get_file(db_session(), file_id)
    back = f"/admin/datasets/{found.dataset_id}"
    if not is_confirmed(request.form):
        return confirmation_page(
            Confirmation(
                f"Retire {found.name}?",
                "No download link, DRS access or htsget slice is given for it from now on, "
                "and links given before stop working. It stays listed as retired and in the "
                "audit trail, and its stored object is not deleted. This cannot be undone.",
                "Yes, retire it",
            ),
            action_url=request.path,
            back_url=back,
            fields={},
        )
    if (
        _done(lambda: editing.retire_file(db_session(), actor, file_id, now=clock().now()))
        is not None
    ):
        flash(f"File {found.name} retired.", "success")
    return redirect(back)


def _dataset_page(
    dataset_id: int,
    *,
    plan: stored_objects.PrefixPlan | None = None,
    prefix_form: dict[str, Any] | None = None,
) -> str:
    require_admin(current_actor(), "dataset_show")
    session = db_session()
    return render_template(
        "catalogue/admin_dataset.html",
        dataset=get_dataset(session, dataset_id),
        studies=list_studies(session),
        committees=list_committees(session),
        kinds=list(FileKind),
        plan=plan,
        prefix_form=prefix_form or {},
    )


T = TypeVar("T")
MAX_SHOWN_PROBLEMS = 20  # of a rejected manifest's lines, on the page; the CLI shows all


def _done(act: Callable[[], T]) -> T | None:
    """The use case's answer, or None with its refusal flashed: a bad field or a conflict
    is shown on the page it came from. Not being an admin is not caught: that is a 403."""
    try:
        return act()
    except (InvalidInput, Conflict) as exc:
        rollback_if_open()
        flash(f"Not done: {exc.message} {_first_detail(exc.details)}".strip(), "error")
        return None


def _first_detail(details: Mapping[str, Any]) -> str:
    if not details:
        return ""
    field, problems = next(iter(details.items()))
    if isinstance(problems, list) and problems:
        return f"({field}: {problems[0]})"
    if isinstance(problems, dict) and problems:
        key, message = next(iter(problems.items()))
        return f"({field}: {key}: {message})"
    return f"({field}: {problems})"


def _text(form: Mapping[str, str], *names: str) -> dict[str, Any]:
    return {name: form[name].strip() for name in names if name in form}


def _optional(form: Mapping[str, str], *names: str) -> dict[str, Any]:
    """A field left blank means none."""
    return {name: form.get(name, "").strip() or None for name in names}


def _dataset_form(form: Mapping[str, str]) -> dict[str, Any]:
    """The dataset form as DatasetIn takes it: ids as numbers, "none" for no committee, and
    DUO codes and disease ids separated by commas or spaces."""
    data = _text(form, "accession", "name", "tier", "use_limitation_text")
    for name in ("study_id", "committee_id"):
        if name in form:
            value = form[name].strip()
            data[name] = int(value) if value.isdigit() else (None if value == "" else value)
    for name in ("duo_codes", "duo_disease_ids"):
        if name in form:
            data[name] = form[name].replace(",", " ").split()
    return data
