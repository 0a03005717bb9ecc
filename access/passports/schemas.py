"""JSON output of the Passport routes."""

from __future__ import annotations

from marshmallow import Schema, fields


class VisasOut(Schema):
    """GET /api/v1/users/me/visas: one signed visa (JWS, compact form) per live grant."""

    visas = fields.List(fields.String(), required=True)
