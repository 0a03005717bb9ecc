"""Building blocks every package's schemas share: strict booleans, partial updates."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

# Ids are INTEGER columns: anything larger names nothing, and is refused as such.
MAX_ID = 2**31 - 1


class StrictBoolean(fields.Boolean):
    """JSON true or false only: "yes" or 1 would be a guess about what the client meant."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def query_date(**kwargs: Any) -> fields.Date:
    """A date filter (``YYYY-MM-DD``) within years 1..9998: a day either side of the
    calendar's ends must still be a date, since filters turn a day into its start and end."""
    return fields.Date(validate=validate.Range(min=date(1, 1, 2), max=date(9998, 12, 31)),
                       **kwargs)


class ChangesIn(Schema):
    """Put first among the bases of an input schema: any of its fields, at least one."""

    def __init__(self) -> None:
        super().__init__(partial=True)

    @validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("Send at least one field to change.")


def first_problem(messages: Any) -> str:
    """The first problem of a marshmallow error, as one line for a flash message."""
    if isinstance(messages, dict):
        field, problems = next(iter(messages.items()))
        return f"{field}: {problems[0] if isinstance(problems, list) else problems}"
    return str(messages)
