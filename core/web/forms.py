"""Admin forms on pages: a bad field or a refused act is flashed on the page it came from,
where a JSON client gets the 400 or 409 itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import flash
from marshmallow import Schema, ValidationError

from core.errors import Conflict, InvalidInput
from core.schemas import first_problem
from core.web.request_scope import rollback_if_open

T = TypeVar("T")


def load_or_flash(schema: Schema, data: dict[str, Any]) -> dict[str, Any] | None:
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        flash(f"Not done: {first_problem(exc.messages)}", "error")
        return None
    return loaded


def done_or_flash(act: Callable[[], T]) -> T | None:
    """The use case's answer, or None with its refusal flashed. Not being an admin is not
    caught: that is a 403."""
    try:
        return act()
    except (InvalidInput, Conflict) as exc:
        rollback_if_open()
        flash(f"Not done: {exc.message}", "error")
        return None


def chosen_id(value: str | None) -> int | str | None:
    """A select's value: blank is none, digits an id, anything else left for the schema."""
    value = (value or "").strip()
    return int(value) if value.isdigit() else (value or None)
