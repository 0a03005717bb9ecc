"""The catalogue JSON API under /api/v1: the datasets (consent groups) and their files."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from core.scopes import Scope
from core.web.api_docs import documented
from core.web.request_scope import db_session
from datasets.catalogue.queries import get_dataset, list_datasets
from datasets.catalogue.schemas import DatasetListOut, DatasetOut, DatasetSummaryOut

api = Blueprint("catalogue_api", __name__, url_prefix="/api/v1")


@api.get("/datasets")
@documented("The catalogue's datasets (consent groups) and their data-use limitations",
            response=DatasetListOut, scope=Scope.CATALOGUE, public=True)
def datasets() -> Response:
    return jsonify({"datasets": DatasetSummaryOut(many=True).dump(list_datasets(db_session()))})


@api.get("/datasets/<int:dataset_id>")
@documented("One dataset with its files, sizes and checksums", response=DatasetOut,
            scope=Scope.CATALOGUE, public=True)
def dataset(dataset_id: int) -> Response:
    return jsonify(DatasetOut().dump(get_dataset(db_session(), dataset_id)))
