"""Helpers for JSON endpoints: parse input with a schema, dump output, one error shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, jsonify, request
from marshmallow import Schema, ValidationError

from core.errors import InvalidInput


def parse_body(schema: Schema) -> dict[str, Any]:
    """The JSON body validated by schema; an empty body counts as {} for bodiless actions."""
    if not request.get_data(cache=True):
        payload: Any = {}
    else:
        payload = request.get_json(silent=True)
        if payload is None:
            raise InvalidInput("The request body must be JSON (Content-Type: application/json).")
    if not isinstance(payload, dict):
        raise InvalidInput("The request body must be a JSON object.")
    return _load(schema, payload)


def parse_query(schema: Schema) -> dict[str, Any]:
    return _load(schema, request.args.to_dict(flat=True))


def _load(schema: Schema, payload: Mapping[str, Any]) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(payload)
    except ValidationError as exc:
        raise InvalidInput("Some fields are missing or invalid.", details=_messages(exc)) from None
    return loaded


def _messages(exc: ValidationError) -> dict[str, Any]:
    messages = exc.messages
    return messages if isinstance(messages, dict) else {"_schema": messages}


def error_body(code: str, message: str, details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": dict(details or {})}}


def error_response(
    status: int, code: str, message: str, details: Mapping[str, Any] | None = None
) -> Response:
    response = jsonify(error_body(code, message, details))
    response.status_code = status
    return response
