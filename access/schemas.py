"""JSON input and output schemas of the access API (input and output kept apart)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from core.scopes import ALL_SCOPES, decode_scopes


class RequestIn(Schema):
    title = fields.String(required=True, validate=validate.Length(min=3, max=300))
    research_use_statement = fields.String(
        required=True, validate=validate.Length(min=20, max=10000)
    )
    dataset_ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1)),
        required=True,
        validate=validate.Length(min=1, max=50),
    )

    @validates("dataset_ids")
    def _unique(self, value: list[int], **_: Any) -> None:
        if len(set(value)) != len(value):
            raise ValidationError("List each dataset once.")


class RequestListQuery(Schema):
    scope = fields.String(load_default="mine", validate=validate.OneOf(["mine", "review"]))


class NoBodyIn(Schema):
    """Actions that need nothing but the request id still reject unknown fields."""


class ApproveIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    days = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=3650))


class RejectIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class TokenIn(Schema):
    name = fields.String(load_default="API token", validate=validate.Length(min=1, max=100))
    days = fields.Integer(strict=True, load_default=None, allow_none=True,
                          metadata={"description": "Lifetime in days; default 30, at most "
                                                   "CUSTODIAN_API_TOKEN_MAX_DAYS."})
    scopes = fields.List(
        fields.String(validate=validate.OneOf(sorted(ALL_SCOPES))),
        load_default=None,
        validate=validate.Length(min=1, max=len(ALL_SCOPES)),
        metadata={"description": "What the token may do: any of "
                                 + ", ".join(sorted(ALL_SCOPES)) + ". Left out: every scope "
                                 "the caller holds (as tokens were before scopes existed)."},
    )


class TokenOut(Schema):
    """The answer to creating a token: the only time the secret is ever shown."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True)
    scopes = fields.Method("_scopes", metadata={"type": "array", "items": {"type": "string"}})

    def _scopes(self, obj: Any) -> list[str]:
        return sorted(decode_scopes(obj["scopes"]))


class TokenInfoOut(Schema):
    """A token as listed: never the secret, which is not stored."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    revoked_at = fields.DateTime(allow_none=True)
    scopes = fields.Method("_scopes", metadata={"type": "array", "items": {"type": "string"}})

    def _scopes(self, obj: Any) -> list[str]:
        return sorted(decode_scopes(obj.scopes))


class TokenListOut(Schema):
    tokens = fields.List(fields.Nested(TokenInfoOut), required=True)


class UserOut(Schema):
    id = fields.Integer()
    name = fields.String(attribute="display_name")
    email = fields.String(allow_none=True)
    institution = fields.String(allow_none=True)
    issuer = fields.String()
    subject = fields.String()


class WhoAmIOut(UserOut):
    roles = fields.List(fields.String())
    csrf_token = fields.String()


class RequestedDatasetOut(Schema):
    dataset_id = fields.Integer()
    committee_id = fields.Integer()


class RequestOut(Schema):
    id = fields.Integer()
    state = fields.String()
    title = fields.String()
    research_use_statement = fields.String()
    applicant = fields.Nested(UserOut(only=("id", "name", "institution")))
    dataset_ids = fields.Method("_dataset_ids",
                                metadata={"type": "array", "items": {"type": "integer"}})
    created_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    approved_days = fields.Integer(allow_none=True)

    def _dataset_ids(self, obj: Any) -> list[int]:
        return [requested.dataset_id for requested in obj.datasets]


class RequestListOut(Schema):
    requests = fields.List(fields.Nested(RequestOut), required=True)


class VisasOut(Schema):
    """GET /api/v1/users/me/visas: one signed visa (JWS, compact form) per live grant."""

    visas = fields.List(fields.String(), required=True)
