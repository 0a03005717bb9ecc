"""JSON input and output of the signed-URL API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class UrlQuery(Schema):
    expires_in = fields.Integer(load_default=None, validate=validate.Range(min=1))


class UrlWithPassportsIn(Schema):
    """POST body of the URL request: GA4GH Passport JWTs (or single visa JWTs)."""

    passports = fields.List(fields.String(validate=validate.Length(min=1, max=16384)),
                            required=True, validate=validate.Length(min=1, max=20))
    expires_in = fields.Integer(load_default=None, validate=validate.Range(min=1))


class SignedUrlOut(Schema):
    url = fields.String(required=True)
    expires_at = fields.DateTime(required=True)
