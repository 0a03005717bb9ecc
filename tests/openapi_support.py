"""Validating live responses against OpenAPI documents: the GA4GH DRS 1.5.0 spec as published
(its YAML files, with their relative $refs resolved through a ``referencing`` registry) and
our own generated /api/v1 document.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

DRS_ROOT = Path(__file__).resolve().parents[2] / "shared" / "specs" / "drs-1.5.0" / "openapi"
if not DRS_ROOT.is_dir():  # a worktree under /work: shared/ sits beside it
    DRS_ROOT = Path("/work/shared/specs/drs-1.5.0/openapi")
DRS_DOCUMENT = DRS_ROOT / "data_repository_service.openapi.yaml"

# The DRS service-info response points at the GA4GH service-info 1.0.0 document on the web,
# which no test here can fetch. This restates that document's `Service` schema (its required
# fields and their types) so the $ref still resolves to a real check.
SERVICE_INFO_URL = ("https://raw.githubusercontent.com/ga4gh-discovery/ga4gh-service-info/"
                    "v1.0.0/service-info.yaml")
SERVICE_INFO_STANDIN: dict[str, Any] = {"components": {"schemas": {
    "Service": {
        "type": "object",
        "required": ["id", "name", "type", "organization", "version"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "type": {"$ref": "#/components/schemas/ServiceType"},
            "description": {"type": "string"},
            "organization": {"type": "object", "required": ["name", "url"],
                             "properties": {"name": {"type": "string"},
                                            "url": {"type": "string", "format": "uri"}}},
            "contactUrl": {"type": "string", "format": "uri"},
            "documentationUrl": {"type": "string", "format": "uri"},
            "createdAt": {"type": "string", "format": "date-time"},
            "updatedAt": {"type": "string", "format": "date-time"},
            "environment": {"type": "string"},
            "version": {"type": "string"},
        },
    },
    "ServiceType": {
        "type": "object", "required": ["group", "artifact", "version"],
        "properties": {"group": {"type": "string"}, "artifact": {"type": "string"},
                       "version": {"type": "string"}},
    },
}}}


def _retrieve(uri: str) -> Resource[Any]:
    if uri == SERVICE_INFO_URL:
        return Resource.from_contents(SERVICE_INFO_STANDIN, default_specification=DRAFT4)
    parts = urlsplit(uri)
    if parts.scheme != "file":
        raise LookupError(f"no network: cannot fetch {uri}")
    contents = yaml.safe_load(Path(unquote(parts.path)).read_text())
    return Resource.from_contents(contents, default_specification=DRAFT4)


DRS_REGISTRY: Registry[Any] = Registry(retrieve=_retrieve)  # type: ignore[call-arg]


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


@cache
def _drs_response_location(path: str, method: str, status: int) -> str:
    """The URI of the response schema the spec gives for (path, method, status)."""
    root = yaml.safe_load(DRS_DOCUMENT.read_text())
    path_file = (DRS_DOCUMENT.parent / root["paths"][path]["$ref"]).resolve()
    operation = yaml.safe_load(path_file.read_text())[method]
    response = operation["responses"][status]
    response_file = (path_file.parent / response["$ref"]).resolve()
    return str(response_file.as_uri() + "#/" +
               _pointer("content", "application/json", "schema"))


def assert_matches_drs_spec(path: str, method: str, status: int, body: Any) -> None:
    """``path`` is the spec's own path key, e.g. ``/objects/{object_id}``."""
    schema = {"$ref": _drs_response_location(path, method, status)}
    OAS30Validator(schema, registry=DRS_REGISTRY).validate(body)


def drs_schema(name: str) -> dict[str, Any]:
    """A reference to one of the spec's component schemas, by file name."""
    return {"$ref": (DRS_ROOT / "components" / "schemas" / f"{name}.yaml").as_uri()}


def assert_is_drs(name: str, body: Any) -> None:
    OAS30Validator(drs_schema(name), registry=DRS_REGISTRY).validate(body)


_ARGUMENT = re.compile(r"{[^/}]+}")


def documented_operation(document: dict[str, Any], method: str, path: str) -> str | None:
    """The document's path template that serves ``path`` (a real URL path) for method."""
    for template, operations in document["paths"].items():
        pattern = "^" + _ARGUMENT.sub("[^/]+", re.escape(template).replace(r"\{", "{")
                                      .replace(r"\}", "}")) + "$"
        if re.match(pattern, path) and method.lower() in operations:
            return str(template)
    return None


def assert_matches_document(document: dict[str, Any], method: str, path: str, status: int,
                            body: Any) -> None:
    """The live body matches the schema the document gives for that status (or default)."""
    template = documented_operation(document, method, path)
    assert template is not None, f"{method} {path} is not in the document"
    responses = document["paths"][template][method.lower()]["responses"]
    key = str(status) if str(status) in responses else "default"
    assert key in responses, f"{method} {template} documents no {status}"
    content = responses[key].get("content", {}).get("application/json")
    if content is None:
        assert body in (None, b"", ""), f"{method} {template} {status} documents no body"
        return
    registry: Registry[Any] = Registry().with_resource(
        "urn:custodian-api", Resource.from_contents(document, default_specification=DRAFT4))
    location = "urn:custodian-api#/" + _pointer("paths", template, method.lower(), "responses",
                                                key, "content", "application/json", "schema")
    OAS30Validator({"$ref": location}, registry=registry).validate(body)
