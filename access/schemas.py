"""JSON input and output schemas of the access API (input and output kept apart)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates


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
    days = fields.Integer(strict=True, load_default=None, allow_none=True)


class TokenOut(Schema):
    id = fields.Integer()
    name = fields.String()
    token = fields.String()
    expires_at = fields.DateTime()


class UserOut(Schema):
    id = fields.Integer()
    name = fields.String(attribute="display_name")
    email = fields.String()
    institution = fields.String()
    issuer = fields.String()
    subject = fields.String()


class RequestedDatasetOut(Schema):
    dataset_id = fields.Integer()
    committee_id = fields.Integer()


class RequestOut(Schema):
    id = fields.Integer()
    state = fields.String()
    title = fields.String()
    research_use_statement = fields.String()
    applicant = fields.Nested(UserOut(only=("id", "name", "institution")))
    dataset_ids = fields.Method("_dataset_ids")
    created_at = fields.DateTime()
    submitted_at = fields.DateTime()
    decided_at = fields.DateTime()
    decision_reason = fields.String()
    approved_days = fields.Integer()

    def _dataset_ids(self, obj: Any) -> list[int]:
        return [requested.dataset_id for requested in obj.datasets]
