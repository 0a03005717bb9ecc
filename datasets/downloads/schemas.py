"""JSON input and output of the signed-URL API.

The longest lifetime a client may ask for is a setting, so the input schemas are built for
it (once per value) and the OpenAPI document states the same bound the code enforces.
"""

from __future__ import annotations

from functools import cache

from marshmallow import Schema, fields, validate


def _expires_in(max_seconds: int) -> fields.Integer:
    return fields.Integer(load_default=None, strict=False,
                          validate=validate.Range(min=1, max=max_seconds),
                          metadata={"description": "Seconds the URL lives; at most "
                                                   "CUSTODIAN_SIGNED_URL_MAX_SECONDS."})


@cache
def url_query(max_seconds: int) -> Schema:
    return Schema.from_dict({"expires_in": _expires_in(max_seconds)}, name="UrlQuery")()


@cache
def url_with_passports(max_seconds: int) -> Schema:
    """POST body of the URL request: GA4GH Passport JWTs (or single visa JWTs)."""
    return Schema.from_dict({
        "passports": fields.List(fields.String(validate=validate.Length(min=1, max=16384)),
                                 required=True, validate=validate.Length(min=1, max=20)),
        "expires_in": _expires_in(max_seconds),
    }, name="UrlWithPassportsIn")()


class SignedUrlOut(Schema):
    url = fields.String(required=True)
    expires_at = fields.DateTime(required=True)
