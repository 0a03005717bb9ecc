"""GA4GH Passport URLs: our visa-signing keys and the signed-in user's visas."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from access.extensions import dataset_directory, visa_signer
from access.identity.current_actor import current_actor
from access.passports.schemas import VisasOut
from access.passports.visas import JWKS_PATH, issue_visas, public_jwks
from core.scopes import Scope
from core.web.api_docs import documented
from core.web.request_scope import clock, db_session

api = Blueprint("passport_api", __name__)


@api.get(JWKS_PATH)
def jwks() -> Response:
    response = jsonify(public_jwks(visa_signer()))
    # Consumers cache it; a rotated key is published as "previous" long before it signs nothing.
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@api.get("/api/v1/users/me/visas")
@documented("My live grants as GA4GH ControlledAccessGrants visas, signed by this service",
            response=VisasOut, scope=Scope.DOWNLOAD,
            description="Keys at /.well-known/jwks.json (the visas' jku). 404 visas_not_issued "
                        "when no visa signing key is set.")
def my_visas() -> Response:
    visas = issue_visas(db_session(), current_actor(), now=clock().now(), signer=visa_signer(),
                        directory=dataset_directory())
    response = jsonify(VisasOut().dump({"visas": visas}))
    response.headers["Cache-Control"] = "no-store"
    return response
