"""The OpenAPI document of /api/v1, built from small declarations next to each route.

A route says what it takes and returns with ``@documented(...)`` under its ``@api.get``;
the document is then generated from the app's URL map and the marshmallow schemas
(apispec), so it cannot drift from the routes. The same declaration names the scope a
personal API token needs (access/identity/current_actor.py enforces it), so documenting a
route and securing it are one act, and a route without a declaration accepts no token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import INCLUDE, Schema, fields

from core.schemas import ChangesIn

SchemaRef = type[Schema] | Schema
# A schema built when it is needed, for limits that come from the settings.
SchemaFactory = Callable[[], Schema]
F = TypeVar("F", bound=Callable[..., object])
_ATTRIBUTE = "_api_operation"
# A query schema with this attribute true drops empty values before validating.
EMPTY_MEANS_ANY = "empty_means_any"
_EMPTY_MEANS_ANY = "x-empty-means-any"
_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_TYPES: dict[str, dict[str, Any]] = {"int": {"type": "integer", "minimum": 0,
                                              "maximum": 2**63 - 1},
                                      "path": {"type": "string"},
                                      "default": {"type": "string"}}


@dataclass(frozen=True)
class Operation:
    """What one route takes and answers. ``scope`` is the token scope it needs (None: any
    live token); ``public`` routes need no sign-in at all."""

    summary: str
    response: SchemaRef | None = None
    status: int = 200
    body: SchemaRef | SchemaFactory | None = None
    query: SchemaRef | SchemaFactory | None = None
    scope: str | None = None
    public: bool = False
    description: str = ""
    # Other media types the success answer may have (a TSV download, JSON Lines).
    media_types: tuple[str, ...] = ()
    # A route with a path argument that names an action (``/requests/{id}/<action>``) is
    # documented as one path per action, each with its own body.
    variant_argument: str | None = None
    variants: Callable[[], Mapping[str, Operation]] | None = field(default=None, compare=False)


def documented(summary: str, **options: Any) -> Callable[[F], F]:
    operation = Operation(summary, **options)

    def attach(view: F) -> F:
        setattr(view, _ATTRIBUTE, operation)
        return view

    return attach


def operation_of(view: object) -> Operation | None:
    found = getattr(view, _ATTRIBUTE, None)
    return found if isinstance(found, Operation) else None


class ErrorDetailOut(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict(required=True)


class ErrorOut(Schema):
    """The one error shape of the JSON API."""

    error = fields.Nested(ErrorDetailOut, required=True)


class OpenApiDocumentOut(Schema):
    """This document itself, for its own route: an OpenAPI 3 object."""

    class Meta:
        unknown = INCLUDE

    openapi = fields.String(required=True)
    info = fields.Dict(required=True)
    paths = fields.Dict(required=True)
    components = fields.Dict()


def build_document(app: Flask, *, prefix: str, title: str, version: str,
                   server_url: str) -> dict[str, Any]:
    spec = APISpec(
        title=title, version=version, openapi_version="3.0.3",
        plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
        servers=[{"url": server_url}],
        info={"description": "Custodian's JSON API. Sign in (session cookie; POSTs then need "
                             "the X-CSRF-Token header from GET /api/v1/users/me) or send a "
                             "personal API token as `Authorization: Bearer <token>`; each "
                             "route names the token scope it needs."},
    )
    spec.components.security_scheme("bearerToken", {
        "type": "http", "scheme": "bearer",
        "description": "A personal API token (POST /api/v1/tokens), limited to its scopes."})
    spec.components.security_scheme("session", {
        "type": "apiKey", "in": "cookie", "name": app.config["SESSION_COOKIE_NAME"]})
    spec.components.schema("Error", schema=ErrorOut)
    paths: dict[str, dict[str, Any]] = {}
    with app.app_context():  # schemas built from the settings read them from the app
        _describe_paths(app, prefix, paths)
    for path in sorted(paths):
        spec.path(path=path, operations=paths[path])
    document = spec.to_dict()
    for path, operations in document.get("paths", {}).items():
        for method, described in operations.items():
            if paths[path][method].get(_EMPTY_MEANS_ANY):
                _allow_empty_query_values(described)
    return document


def _allow_empty_query_values(described: dict[str, Any]) -> None:
    """A filter schema that reads an empty field as "any" (a form left blank) accepts ""
    for every query parameter: the document says so, so a fuzzer does not count it."""
    described.pop(_EMPTY_MEANS_ANY, None)
    for parameter in described.get("parameters", []):
        if parameter.get("in") == "query" and "schema" in parameter:
            parameter["schema"] = {"anyOf": [parameter["schema"],
                                             {"type": "string", "maxLength": 0}]}


def _describe_paths(app: Flask, prefix: str, paths: dict[str, dict[str, Any]]) -> None:
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefix):
            continue
        operation = operation_of(app.view_functions[rule.endpoint])
        if operation is None:
            continue
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        # Grouped on the page by the first segment after the prefix: tokens, requests...
        tag = rule.rule.removeprefix(prefix).split("/")[0]
        for path, variant in _expand(rule.rule, operation):
            for method in methods:
                described = _operation(variant, _path_parameters(path, rule.rule))
                paths.setdefault(path, {})[method.lower()] = {**described, "tags": [tag]}


def _expand(rule: str, operation: Operation) -> list[tuple[str, Operation]]:
    template = _ARGUMENT.sub(lambda m: "{" + m.group("name") + "}", rule)
    if operation.variant_argument is None or operation.variants is None:
        return [(template, operation)]
    slot = "{" + operation.variant_argument + "}"
    return [(template.replace(slot, name), variant)
            for name, variant in sorted(operation.variants().items())]


def _path_parameters(path: str, rule: str) -> list[dict[str, Any]]:
    converters = {m.group("name"): m.group("converter") or "default"
                  for m in _ARGUMENT.finditer(rule)}
    return [{"in": "path", "name": name, "required": True,
             "schema": dict(_TYPES.get(converters.get(name, "default"), _TYPES["default"]))}
            for name in re.findall(r"{(\w+)}", path)]


def _operation(operation: Operation, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    described: dict[str, Any] = {"summary": operation.summary,
                                 "responses": _responses(operation)}
    notes = [operation.description] if operation.description else []
    if operation.public:
        described["security"] = [{}, {"bearerToken": []}, {"session": []}]
        notes.append("No sign-in needed.")
    else:
        described["security"] = [{"bearerToken": []}, {"session": []}]
        notes.append(f"Token scope: `{operation.scope}`." if operation.scope
                     else "Any live token.")
    described["description"] = " ".join(notes)
    if operation.scope:
        described["x-token-scope"] = operation.scope
    if operation.query is not None:
        query = schema_of(operation.query)
        parameters = [*parameters, {"in": "query", "schema": query}]
        if getattr(query, EMPTY_MEANS_ANY, False):
            described[_EMPTY_MEANS_ANY] = True
    if parameters:
        described["parameters"] = parameters
    if operation.body is not None:
        described["requestBody"] = _request_body(schema_of(operation.body))
    return described


def schema_of(declared: SchemaRef | SchemaFactory) -> SchemaRef:
    if isinstance(declared, Schema):
        return declared
    if isinstance(declared, type) and issubclass(declared, Schema):
        return declared
    factory = cast(SchemaFactory, declared)
    return factory()


def _request_body(schema: SchemaRef) -> dict[str, Any]:
    """Required when any field is; a partial update (ChangesIn) needs at least one field.
    A fuzzer reads these to aim at the edges the code enforces."""
    instance = schema() if isinstance(schema, type) else schema
    required = any(field.required for field in instance.fields.values())
    described: dict[str, Any] = {"schema": schema}
    if isinstance(instance, ChangesIn):
        described = {"schema": {"allOf": [schema], "minProperties": 1}}
        required = True
    return {"required": required, "content": {"application/json": described}}


def _responses(operation: Operation) -> dict[str, Any]:
    success: dict[str, Any] = {"description": "Success."}
    content: dict[str, Any] = {}
    if operation.response is not None:
        content["application/json"] = {"schema": operation.response}
    for media_type in operation.media_types:
        content[media_type] = {"schema": {"type": "string"}}
    if content:
        success["content"] = content
    error = {"description": "An error in the one error shape.",
             "content": {"application/json": {"schema": "Error"}}}
    return {str(operation.status): success, "default": error}


def _schema_name(schema: SchemaRef) -> str:
    """Class name without a trailing "Schema"; a schema used with ``only``/``exclude``
    gets its own name, so two shapes never share one."""
    instance = schema() if isinstance(schema, type) else schema
    name = type(instance).__name__.removesuffix("Schema")
    narrowed = instance.only or instance.exclude
    if narrowed:
        kind = "Only" if instance.only else "Without"
        name += kind + "".join(part.title().replace("_", "") for part in sorted(narrowed))
    return name
