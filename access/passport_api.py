"""GA4GH Passport URLs: our visa-signing keys and the signed-in user's visas."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from access.api import dataset_directory
from access.passport_verify import PassportVerifier
from access.schemas import VisasOut
from access.visas import JWKS_PATH, VisaSigner, issue_visas, public_jwks
from access.web import current_actor
from core.api_docs import documented
from core.request_scope import clock, db_session
from core.scopes import Scope

api = Blueprint("passport_api", __name__)
SIGNER = "custodian.visa_signer"
VERIFIER = "custodian.passport_verifier"


def visa_signer() -> VisaSigner | None:
    signer: VisaSigner | None = current_app.extensions[SIGNER]
    return signer


def passport_verifier() -> PassportVerifier:
    verifier: PassportVerifier = current_app.extensions[VERIFIER]
    return verifier


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
