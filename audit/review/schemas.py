"""Input and output schemas of the auditors' API and pages (input and output kept apart)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from audit.log.actions import Outcome
from audit.log.chain import format_timestamp
from audit.log.search_keys import MAX_ID

MAX_SEQ = 2**63 - 1
ACTION_PATTERN = re.compile(r"[a-z][a-z_]*:[a-z_]*")
_ID = validate.Range(min=1, max=MAX_ID)


class Moment(fields.Field[datetime]):
    """An ISO 8601 date or date-time, UTC unless it says otherwise.

    As an upper bound a bare date means the end of that day, so "until 2026-01-31"
    includes the 31st, as a person reading the report would expect.
    """

    default_error_messages = {  # noqa: RUF012  (marshmallow's own class-level convention)
        "invalid": "Not an ISO 8601 date or date-time (e.g. 2026-01-31 or 2026-01-31T08:00Z).",
    }

    def __init__(self, *, whole_day: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.whole_day = whole_day

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 40:
            raise self.make_error("invalid")
        try:
            if len(value) == len("2026-01-31"):
                moment = datetime.combine(date.fromisoformat(value), time(), UTC)
                return moment + timedelta(days=1) if self.whole_day else moment
            moment = datetime.fromisoformat(value)
            return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
        except (ValueError, OverflowError):
            raise self.make_error("invalid") from None


class _Query(Schema):
    empty_means_any = True  # the OpenAPI document says so (core/web/api_docs.py)

    @pre_load
    def _drop_empty(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """An empty form field means "any", as if it had not been sent."""
        return {key: value for key, value in data.items() if value != ""}


class PeriodIn(_Query):
    since = Moment()
    until = Moment(whole_day=True)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if "since" in data and "until" in data and data["since"] >= data["until"]:
            raise ValidationError("since must be before until.", "until")


class EventFilterIn(PeriodIn):
    user = fields.Integer(validate=_ID)
    subject = fields.String(validate=validate.Length(min=1, max=255))
    dataset = fields.Integer(validate=_ID)
    file = fields.Integer(validate=_ID)
    action = fields.String(validate=[
        validate.Length(max=64),
        validate.Regexp(ACTION_PATTERN, error="An action such as url:issue, or a prefix such "
                        "as request: (letters and underscores, one colon)."),
    ])
    outcome = fields.String(validate=validate.OneOf([o.value for o in Outcome]))
    after = fields.Integer(validate=validate.Range(min=0, max=MAX_SEQ))
    before = fields.Integer(validate=validate.Range(min=1, max=MAX_SEQ))


class EventSearchIn(EventFilterIn):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class EventPageSearchIn(EventSearchIn):
    """The search page's form: also a person by name, email or subject (``person``)."""

    person = fields.String(validate=validate.Length(min=1, max=255))


class ExportIn(EventFilterIn):
    format = fields.String(load_default="jsonl", validate=validate.OneOf(["csv", "jsonl"]))


class AlertSearchIn(PeriodIn):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    before = fields.Integer(validate=validate.Range(min=1, max=MAX_SEQ))


class ReportChoiceIn(PeriodIn):
    """The report form: a dataset picked from the list, or a person found by name, email,
    subject or id; ``id`` is for links that already know it."""

    kind = fields.String(required=True, validate=validate.OneOf(["dataset", "user"]))
    id = fields.Integer(validate=_ID)
    dataset = fields.Integer(validate=_ID)
    user = fields.String(validate=validate.Length(min=1, max=255))

    @validates_schema
    def _named(self, data: dict[str, Any], **_: Any) -> None:
        if "id" in data:
            return
        if data["kind"] == "dataset" and "dataset" not in data:
            raise ValidationError("Pick a dataset.", "dataset")
        if data["kind"] == "user" and "user" not in data:
            raise ValidationError("Type a name, an email address or a user id.", "user")


class DownloadsIn(PeriodIn):
    dataset = fields.Integer(validate=_ID)


class EventOut(Schema):
    """One event as stored: the hashed fields, its hashes and the derived search keys."""

    seq = fields.Integer()
    occurred_at = fields.Function(lambda event: format_timestamp(event.occurred_at))
    action = fields.String()
    outcome = fields.String()
    actor_user_id = fields.Integer(allow_none=True)
    actor_issuer = fields.String(allow_none=True)
    actor_subject = fields.String(allow_none=True)
    actor_token_id = fields.Integer(allow_none=True)
    actor_roles = fields.String(allow_none=True)
    ip = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
    target_type = fields.String(allow_none=True)
    target_id = fields.String(allow_none=True)
    details = fields.Dict()
    prev_hash = fields.String()
    hash = fields.String()
    leaf_hash = fields.String()
    dataset_id = fields.Integer(allow_none=True)
    file_id = fields.Integer(allow_none=True)


class AlertOut(Schema):
    seq = fields.Integer()
    occurred_at = fields.Function(lambda event: format_timestamp(event.occurred_at))
    kind = fields.Function(lambda event: event.details.get("kind"))
    subject_type = fields.String(attribute="target_type")
    subject = fields.String(attribute="target_id")
    count = fields.Function(lambda event: event.details.get("count"))
    threshold = fields.Function(lambda event: event.details.get("threshold"))
    window_seconds = fields.Function(lambda event: event.details.get("window_seconds"))
    trigger_seq = fields.Function(lambda event: event.details.get("trigger_seq"))


class ReceiptOut(Schema):
    user_id = fields.Integer(allow_none=True)
    issuer = fields.String(allow_none=True)
    subject = fields.String(allow_none=True)
    dataset_id = fields.Integer(allow_none=True)
    file_id = fields.Integer(allow_none=True)
    urls_issued = fields.Integer()
    files_served = fields.Integer()
    first_at = fields.Function(lambda row: format_timestamp(row.first_at))
    last_at = fields.Function(lambda row: format_timestamp(row.last_at))


class AccessReportOut(Schema):
    since = fields.Function(lambda report: format_timestamp(report.since))
    until = fields.Function(lambda report: format_timestamp(report.until))
    rows = fields.List(fields.Nested(ReceiptOut()))
    truncated = fields.Boolean()


class DayOut(Schema):
    day = fields.Date()
    urls_issued = fields.Integer()
    files_served = fields.Integer()


# The envelopes of the auditors' API answers, for its OpenAPI document.
class EventPageOut(Schema):
    events = fields.List(fields.Nested(EventOut), required=True)
    next = fields.Integer(allow_none=True, required=True)


class AlertPageOut(Schema):
    alerts = fields.List(fields.Nested(AlertOut), required=True)
    next = fields.Integer(allow_none=True, required=True)


class DatasetReportOut(AccessReportOut):
    dataset_id = fields.Integer(required=True)


class UserReportOut(AccessReportOut):
    user_id = fields.Integer(required=True)


class DownloadsPerDayOut(Schema):
    dataset_id = fields.Integer(allow_none=True, required=True)
    days = fields.List(fields.Nested(DayOut), required=True)
