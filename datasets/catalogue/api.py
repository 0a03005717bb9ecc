"""The catalogue JSON API under /api/v1: studies, datasets (consent groups) and their files;
reading is public, changing them is for admins."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from access.identity.current_actor import current_actor
from core.scopes import Scope
from core.web.api import parse_body
from core.web.api_docs import documented
from core.web.request_scope import clock, db_session
from datasets.catalogue import editing
from datasets.catalogue.queries import get_dataset, list_datasets, list_studies
from datasets.catalogue.schemas import (
    DatasetIn,
    DatasetListOut,
    DatasetOut,
    DatasetSummaryOut,
    DatasetUpdateIn,
    StudyDetailOut,
    StudyIn,
    StudyListOut,
    StudyUpdateIn,
)

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
    "One dataset with its files, sizes and checksums",
    response=DatasetOut,
    scope=Scope.CATALOGUE,
    public=True,
)
def dataset(dataset_id: int) -> Response:
    return jsonify(DatasetOut().dump(get_dataset(db_session(), dataset_id)))


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
