"""Request bodies and queries of the GA4GH DRS API, as its OpenAPI document defines them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

_ID = fields.String(validate=validate.Length(min=1, max=200))
_PASSPORTS = fields.List(fields.String(validate=validate.Length(max=100_000)))


class ObjectQuery(Schema):
    expand = fields.Boolean(load_default=False)  # ours are all blobs: accepted, no effect


class PostObjectIn(Schema):
    expand = fields.Boolean(load_default=False)
    passports = _PASSPORTS


class PassportsIn(Schema):
    passports = _PASSPORTS


class BulkObjectsIn(Schema):
    bulk_object_ids = fields.List(_ID, required=True, validate=validate.Length(min=1))
    passports = _PASSPORTS


class BulkObjectIdsIn(Schema):
    bulk_object_ids = fields.List(_ID, required=True, validate=validate.Length(min=1))


class BulkAccessItemIn(Schema):
    bulk_object_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    bulk_access_ids = fields.List(fields.String(validate=validate.Length(min=1, max=200)),
                                  required=True, validate=validate.Length(min=1))


class BulkAccessIn(Schema):
    bulk_object_access_ids = fields.List(fields.Nested(BulkAccessItemIn), required=True,
                                         validate=validate.Length(min=1))
    passports = _PASSPORTS
