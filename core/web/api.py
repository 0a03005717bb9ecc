"""Helpers for JSON endpoints: parse input with a schema, dump output, one error shape.

Bodies are decoded here, not by Flask, so that what no schema can judge is refused first
with a clear 400: nesting deeper than any of our bodies has, a lone UTF-16 surrogate
(valid JSON, but no database or encoder takes it), and integers beyond 64 bits.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from flask import Response, jsonify, request
from marshmallow import Schema, ValidationError

from core.errors import InvalidInput

# Our deepest body (DRS bulk access: object, list, object, list) nests four levels.
MAX_DEPTH = 16
LARGEST_INTEGER = 2**63 - 1


def parse_body(schema: Schema) -> dict[str, Any]:
    """The JSON body validated by schema; an empty body counts as {} for bodiless actions."""
    raw = request.get_data(cache=True)
    if raw and not request.is_json:
        raise InvalidInput("The request body must be JSON (Content-Type: application/json).")
    payload: Any = {} if not raw else decode_json(raw)
    if not isinstance(payload, dict):
        raise InvalidInput("The request body must be a JSON object.")
    return _load(schema, payload)


def parse_query(schema: Schema) -> dict[str, Any]:
    return _load(schema, request.args.to_dict(flat=True))


def decode_json(raw: bytes) -> Any:
    """Strict JSON (UTF-8, no NaN), shallow enough, with only encodable strings."""
    if _depth(raw) > MAX_DEPTH:
        raise InvalidInput(f"The request body nests deeper than {MAX_DEPTH} levels.")
    try:
        payload = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidInput(
            "The request body must be JSON (Content-Type: application/json).") from None
    _check_values(payload)
    return payload


def _depth(raw: bytes) -> int:
    """How deep brackets nest, outside strings: measured before parsing, in one pass."""
    deepest = depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_values(value: Any) -> None:
    if isinstance(value, str):
        _check_text(value)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if abs(value) > LARGEST_INTEGER:
            raise InvalidInput("A number in the request body is too large.",
                               details={"largest": LARGEST_INTEGER})
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput("A number in the request body is too large.")
    elif isinstance(value, list):
        for item in value:
            _check_values(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_values(item)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("Text in the request body holds an unpaired UTF-16 surrogate "
                           "(\\ud800-\\udfff), which is not a character.") from None


def _load(schema: Schema, payload: Mapping[str, Any]) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(payload)
    except ValidationError as exc:
        raise InvalidInput("Some fields are missing or invalid.", details=_messages(exc)) from None
    return loaded


def _messages(exc: ValidationError) -> dict[str, Any]:
    messages = exc.messages
    keyed: dict[str, Any] = _string_keys(
        messages if isinstance(messages, dict) else {"_schema": messages})
    return keyed


def _string_keys(value: Any) -> Any:
    """Marshmallow keys a list item's problems by its index and a list's own by "_schema";
    JSON keys are strings, and mixed keys could not even be sorted for the answer."""
    if isinstance(value, dict):
        return {str(key): _string_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_string_keys(item) for item in value]
    return value


def error_body(code: str, message: str, details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": dict(details or {})}}


def error_response(
    status: int, code: str, message: str, details: Mapping[str, Any] | None = None
) -> Response:
    response = jsonify(error_body(code, message, details))
    response.status_code = status
    return response
