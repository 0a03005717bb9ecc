"""The catalogue JSON API under /api/v1: datasets and signed download URLs."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from access.extensions import passport_verifier
from access.identity.current_actor import current_actor
from access.passports.passport_grants import passport_grants
from core.api import parse_body, parse_query
from core.api_docs import documented
from core.request_scope import clock, db_session
from core.scopes import Scope
from datasets.catalogue import get_dataset, list_datasets
from datasets.downloads import UrlLifetime, issue_signed_url
from datasets.schemas import (
    DatasetListOut,
    DatasetOut,
    DatasetSummaryOut,
    SignedUrlOut,
    UrlQuery,
    UrlWithPassportsIn,
)
from datasets.storage import Storage

api = Blueprint("datasets_api", __name__, url_prefix="/api/v1")


def storage() -> Storage:
    found: Storage = current_app.extensions["custodian.storage"]
    return found


def url_lifetime() -> UrlLifetime:
    found: UrlLifetime = current_app.extensions["custodian.url_lifetime"]
    return found


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


@api.get("/files/<int:file_id>/url")
@documented("A short-lived signed download URL; 403 without a live grant on the dataset",
            query=UrlQuery, response=SignedUrlOut, scope=Scope.DOWNLOAD,
            description="Open-tier files need no sign-in.")
def signed_url(file_id: int) -> Response:
    query = parse_query(UrlQuery())
    issued = issue_signed_url(
        db_session(), current_actor(), file_id, storage=storage(), lifetime=url_lifetime(),
        now=clock().now(), expires_in=query["expires_in"],
    )
    return jsonify(SignedUrlOut().dump(issued))


@api.post("/files/<int:file_id>/url")
@documented("As the GET, with GA4GH Passports whose visas count as grants for this request",
            body=UrlWithPassportsIn, response=SignedUrlOut, scope=Scope.DOWNLOAD,
            description="403 passport_refused names each refused visa and why.")
def signed_url_with_passports(file_id: int) -> Response:
    data = parse_body(UrlWithPassportsIn())
    actor, now = current_actor(), clock().now()
    actor.require_user()  # no key is fetched on behalf of someone we do not know
    granted = passport_grants(db_session(), actor, data["passports"], now=now,
                              verifier=passport_verifier())
    issued = issue_signed_url(
        db_session(), actor, file_id, storage=storage(), lifetime=url_lifetime(), now=now,
        expires_in=data["expires_in"], passport_dataset_ids={g.dataset_id for g in granted},
    )
    return jsonify(SignedUrlOut().dump(issued))
