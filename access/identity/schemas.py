"""JSON output of who a user is."""

from __future__ import annotations

from marshmallow import Schema, fields


class UserOut(Schema):
    id = fields.Integer()
    name = fields.String(attribute="display_name")
    email = fields.String(allow_none=True)
    institution = fields.String(attribute="institution_name", allow_none=True)
    institution_id = fields.Integer(allow_none=True)
    issuer = fields.String()
    subject = fields.String()


class WhoAmIOut(UserOut):
    roles = fields.List(fields.String())
    csrf_token = fields.String()
