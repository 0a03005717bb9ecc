"""JSON input and output of the data-use agreement API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

SHA256_HEX = validate.Regexp(r"^[0-9a-fA-F]{64}$", error="Must be 64 hexadecimal characters.")


class AgreementPublishIn(Schema):
    text = fields.String(required=True, validate=validate.Length(min=20, max=100_000))


class AgreementAcceptIn(Schema):
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    sha256 = fields.String(required=True, validate=SHA256_HEX)


class AgreementOut(Schema):
    dataset_id = fields.Integer()
    version = fields.Integer()
    text = fields.String()
    sha256 = fields.String()
    created_at = fields.DateTime()


class AgreementStatusOut(AgreementOut):
    accepted = fields.Boolean()
    accepted_at = fields.DateTime(allow_none=True)
