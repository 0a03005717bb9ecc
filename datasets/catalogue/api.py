"""The catalogue JSON API under /api/v1: studies, datasets (consent groups) and their files;
reading is public, changing them is for admins."""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, jsonify

from access.identity.current_actor import current_actor
from config import Settings
from core.scopes import Scope
from core.web.api import parse_body
from core.web.api_docs import documented
from core.web.request_scope import clock, db_session
from datasets.catalogue import editing, stored_objects
from datasets.catalogue.download_manifest import download_manifest, manifest_filename
from datasets.catalogue.models import FileKind
from datasets.catalogue.queries import get_dataset, list_datasets, list_studies
from datasets.catalogue.schemas import (
    DatasetDetailOut,
    DatasetIn,
    DatasetListOut,
    DatasetOut,
    DatasetSummaryOut,
    DatasetUpdateIn,
    FileIn,
    FileOut,
    FileUpdateIn,
    PrefixIn,
    PrefixPlanOut,
    StandingOut,
    StudyDetailOut,
    StudyIn,
    StudyListOut,
    StudyUpdateIn,
)
from datasets.downloads.standing import download_standing
from datasets.extensions import storage

api = Blueprint("catalogue_api", __name__, url_prefix="/api/v1")


@api.get("/studies")
@documented(
    "Every study with its datasets' ids", response=StudyListOut, scope=Scope.CATALOGUE, public=True
)
def studies() -> Response:
    return jsonify({"studies": StudyDetailOut(many=True).dump(list_studies(db_session()))})


@api.post("/studies")
@documented(
    "Register a study (admins)",
    body=StudyIn,
    response=StudyDetailOut,
    status=201,
    scope=Scope.ADMIN,
)
def create_study() -> tuple[Response, int]:
    data = parse_body(StudyIn())
    study = editing.create_study(db_session(), current_actor(), now=clock().now(), **data)
    return jsonify(StudyDetailOut().dump(study)), 201


@api.patch("/studies/<int:study_id>")
@documented(
    "Change a study's accession, title or description (admins)",
    body=StudyUpdateIn,
    response=StudyDetailOut,
    scope=Scope.ADMIN,
)
def update_study(study_id: int) -> Response:
    data = parse_body(StudyUpdateIn())
    study = editing.update_study(
        db_session(), current_actor(), study_id, changes=data, now=clock().now()
    )
    return jsonify(StudyDetailOut().dump(study))


@api.get("/datasets")
@documented(
    "The catalogue's datasets (consent groups) and their data-use limitations",
    response=DatasetListOut,
    scope=Scope.CATALOGUE,
    public=True,
)
def datasets() -> Response:
    return jsonify({"datasets": DatasetSummaryOut(many=True).dump(list_datasets(db_session()))})


@api.post("/datasets")
@documented(
    "Register a dataset (consent group) of a study (admins)",
    body=DatasetIn,
    response=DatasetOut,
    status=201,
    scope=Scope.ADMIN,
)
def create_dataset() -> tuple[Response, int]:
    data = parse_body(DatasetIn())
    dataset = editing.create_dataset(db_session(), current_actor(), fields=data, now=clock().now())
    return jsonify(DatasetOut().dump(dataset)), 201


@api.get("/datasets/<int:dataset_id>")
@documented(
    "One dataset with its files, sizes and checksums, and whether you may download them",
    response=DatasetDetailOut,
    scope=Scope.CATALOGUE,
    public=True,
)
def dataset(dataset_id: int) -> Response:
    found = get_dataset(db_session(), dataset_id)
    body = DatasetDetailOut().dump(found)
    standing = download_standing(db_session(), current_actor(), found, clock().now())
    next_step = standing.next_step and public_url() + standing.next_step
    body["your_access"] = StandingOut().dump(standing) | {"next_step": next_step}
    return jsonify(body)


@api.get("/datasets/<int:dataset_id>/manifest")
@documented(
    "A dataset's live files as a download manifest (TSV) for custodian-download",
    scope=Scope.CATALOGUE,
    public=True,
    media_types=("text/tab-separated-values",),
    description="Columns id, name, kind, tier, size, sha256, md5, drs_uri; "
    "`custodian-download download --manifest FILE` fetches every file it names.",
)
def manifest(dataset_id: int) -> Response:
    found = get_dataset(db_session(), dataset_id)
    filename = re.sub(r"[^A-Za-z0-9._-]+", "_", manifest_filename(found))
    return Response(download_manifest(found, public_url()),
                    content_type="text/tab-separated-values; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def public_url() -> str:
    settings: Settings = current_app.config["CUSTODIAN_SETTINGS"]
    return settings.public_url.rstrip("/")


@api.patch("/datasets/<int:dataset_id>")
@documented(
    "Change a dataset's data use, committee, names or study (admins)",
    body=DatasetUpdateIn,
    response=DatasetOut,
    scope=Scope.ADMIN,
    description="Moving a dataset to another committee takes its requests that no "
    "committee has seen (drafts, waiting for endorsement) along; while a "
    "committee is reviewing one (endorsed, under review, returned) it "
    "is refused with 409 listing them. A dataset with files or requests "
    "keeps its tier.",
)
def update_dataset(dataset_id: int) -> Response:
    data = parse_body(DatasetUpdateIn())
    found = editing.update_dataset(
        db_session(), current_actor(), dataset_id, changes=data, now=clock().now()
    )
    return jsonify(DatasetOut().dump(found))


@api.post("/datasets/<int:dataset_id>/files")
@documented(
    "Register one object already in storage (admins)",
    body=FileIn,
    response=FileOut,
    status=201,
    scope=Scope.ADMIN,
    description="Size, SHA-256 and MD5 are read from the store and must match what the body "
    "states; an index must belong to the file. Any mismatch is a 400 naming the field, and "
    "nothing is registered.",
)
def register_file(dataset_id: int) -> tuple[Response, int]:
    data = parse_body(FileIn())
    made = stored_objects.register_stored_file(
        db_session(),
        current_actor(),
        dataset_id,
        stored_objects.file_record(data, get_dataset(db_session(), dataset_id)),
        index_key=data["index_key"],
        index_sha256=data["index_sha256"],
        storage=storage(),
        now=clock().now(),
    )
    return jsonify(FileOut().dump(made)), 201


@api.post("/datasets/<int:dataset_id>/files/prefix")
@documented(
    "Register every object under a key prefix, or list what that would do (admins)",
    body=PrefixIn,
    response=PrefixPlanOut,
    scope=Scope.ADMIN,
    description="Objects already registered are skipped; a VCF or BAM is registered with "
    "the index beside it. A dry run lists the plan without reading the data's bytes.",
)
def register_prefix(dataset_id: int) -> Response:
    data = parse_body(PrefixIn())
    plan = stored_objects.register_prefix(
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
    ids: list[int | None] = [made.id for made in plan.registered] or [None] * len(plan.files)
    files = [
        {
            "key": p.record.key,
            "name": p.record.name,
            "kind": p.record.kind.value,
            "size": p.record.size,
            "sha256": p.record.sha256 or None,
            "md5": p.record.md5 or None,
            "index_key": p.index.key if p.index else None,
            "id": file_id,
        }
        for p, file_id in zip(plan.files, ids, strict=True)
    ]
    return jsonify(
        PrefixPlanOut().dump({"dry_run": data["dry_run"], "files": files, "skipped": plan.skipped})
    )


@api.patch("/files/<int:file_id>")
@documented(
    "Change a file's description (admins)", body=FileUpdateIn, response=FileOut, scope=Scope.ADMIN
)
def update_file(file_id: int) -> Response:
    data = parse_body(FileUpdateIn())
    found = editing.update_file(
        db_session(), current_actor(), file_id, changes=data, now=clock().now()
    )
    return jsonify(FileOut().dump(found))


@api.delete("/files/<int:file_id>")
@documented(
    "Retire a file (admins): no URL, DRS access or htsget ticket for it any more (410)",
    status=204,
    scope=Scope.ADMIN,
    description="The file stays in the catalogue (under retired_files) and in the audit "
    "trail; its stored object is left alone.",
)
def retire_file(file_id: int) -> tuple[str, int]:
    editing.retire_file(db_session(), current_actor(), file_id, now=clock().now())
    return "", 204
