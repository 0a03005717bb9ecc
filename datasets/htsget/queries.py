"""An htsget request, from a GET's query or a POST's JSON body, checked as the spec says:
``InvalidInput`` for parameters that do not adhere to it, ``UnsupportedFormat`` for a format
we do not serve, ``InvalidRange`` for start past end. Coordinates are 0-based, half-open."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.errors import InvalidInput
from datasets.htsget.errors import InvalidRange, PayloadTooLarge, UnsupportedFormat

MAX_POSITION = 2**32 - 1  # the spec's 32-bit unsigned start and end
MAX_REGIONS = 256
BAM_FIELDS = frozenset({"QNAME", "FLAG", "RNAME", "POS", "MAPQ", "CIGAR", "RNEXT", "PNEXT",
                        "TLEN", "SEQ", "QUAL"})
UNPLACED = "*"


class Endpoint(StrEnum):
    READS = "reads"
    VARIANTS = "variants"

    @property
    def formats(self) -> tuple[str, ...]:
        """What the spec allows here."""
        return ("BAM", "CRAM") if self is Endpoint.READS else ("VCF", "BCF")

    @property
    def served(self) -> tuple[str, ...]:
        """What we slice: each file in the format it is stored in, never transcoded."""
        return ("BAM", "CRAM") if self is Endpoint.READS else ("VCF",)


@dataclass(frozen=True)
class Region:
    reference_name: str
    start: int | None = None
    end: int | None = None

    def describe(self) -> dict[str, Any]:
        found: dict[str, Any] = {"referenceName": self.reference_name}
        for key in ("start", "end"):
            if getattr(self, key) is not None:
                found[key] = getattr(self, key)
        return found


@dataclass(frozen=True)
class SliceQuery:
    format: str | None  # None: as the file is stored
    header_only: bool
    regions: tuple[Region, ...] | None  # None: the whole file
    fields: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None
    notags: tuple[str, ...] | None = None


_GET_KEYS = frozenset({"format", "class", "referenceName", "start", "end", "fields", "tags",
                       "notags"})
_POST_KEYS = frozenset({"format", "class", "fields", "tags", "notags", "regions"})


def from_query(endpoint: Endpoint, args: Mapping[str, list[str]]) -> SliceQuery:
    """A GET's query string, every value as given (a parameter given twice is refused)."""
    _only(args, _GET_KEYS, "query parameter")
    repeated = sorted(key for key, values in args.items() if len(values) != 1)
    if repeated:
        raise InvalidInput(f"Give each parameter once: {', '.join(repeated)}.")
    values = {key: found[0] for key, found in args.items()}
    lists: dict[str, tuple[str, ...]] = {
        key: _comma_list(values[key]) for key in ("fields", "tags", "notags") if key in values}
    region = None
    if "referenceName" in values:
        region = _region(endpoint, values["referenceName"], _number(values, "start"),
                         _number(values, "end"), strict=False)
    elif "start" in values or "end" in values:
        raise InvalidInput("start and end need a referenceName.")
    return _query(endpoint, values.get("format"), values.get("class"),
                  None if region is None else (region,), lists, given=set(values))


def from_body(endpoint: Endpoint, body: Any) -> SliceQuery:
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object.")
    _only(body, _POST_KEYS, "field")
    lists: dict[str, tuple[str, ...]] = {
        key: _string_list(body, key) for key in ("fields", "tags", "notags") if key in body}
    regions = None
    if "regions" in body:
        given = body["regions"]
        if not isinstance(given, list) or not given:
            raise InvalidInput("regions must be a non-empty list of {referenceName, start, end}.")
        if len(given) > MAX_REGIONS:
            raise PayloadTooLarge(f"At most {MAX_REGIONS} regions in one request.")
        regions = tuple(_body_region(endpoint, item) for item in given)
    for key in ("format", "class"):
        if key in body and not isinstance(body[key], str):
            raise InvalidInput(f"{key} must be a string.")
    return _query(endpoint, body.get("format"), body.get("class"), regions, lists,
                  given=set(body))


def _query(endpoint: Endpoint, fmt: str | None, data_class: str | None,
           regions: tuple[Region, ...] | None, lists: dict[str, tuple[str, ...]],
           given: set[str]) -> SliceQuery:
    wanted = None if fmt is None else fmt.upper()
    if wanted is not None and wanted not in endpoint.formats:
        raise UnsupportedFormat(f"format must be one of {', '.join(endpoint.formats)} on "
                                f"/{endpoint.value}, got {fmt!r}.")
    if wanted is not None and wanted not in endpoint.served:
        raise UnsupportedFormat(f"This server serves {' and '.join(endpoint.served)} on "
                                f"/{endpoint.value}: files are sliced as stored, never "
                                "transcoded.")
    if data_class is not None and data_class != "header":
        raise InvalidInput(f"class must be 'header' when given, got {data_class!r}.")
    header_only = data_class == "header"
    if header_only and given - {"format", "class"}:
        raise InvalidInput("class=header takes no other parameter than format.")
    if endpoint is Endpoint.READS and "fields" in lists:
        unknown = sorted(set(lists["fields"]) - BAM_FIELDS)
        if unknown:
            raise InvalidInput(f"Unknown fields {', '.join(unknown)}: fields are BAM fields "
                               f"({', '.join(sorted(BAM_FIELDS))}).")
    both = set(lists.get("tags", ())) & set(lists.get("notags", ()))
    if both:
        raise InvalidInput(f"tags and notags must not share {', '.join(sorted(both))}.")
    return SliceQuery(wanted, header_only, regions, lists.get("fields"), lists.get("tags"),
                      lists.get("notags"))


def _only(given: Mapping[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise InvalidInput(f"Unknown {what}(s) {', '.join(map(repr, unknown))}; htsget takes "
                           f"{', '.join(sorted(allowed))}.")


def _body_region(endpoint: Endpoint, item: Any) -> Region:
    if not isinstance(item, dict) or set(item) - {"referenceName", "start", "end"}:
        raise InvalidInput("Each region is an object with referenceName, start and end.")
    name = item.get("referenceName")
    if not isinstance(name, str):
        raise InvalidInput("Each region needs a referenceName (a string).")
    bounds = []
    for key in ("start", "end"):
        value = item.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 0 <= value <= MAX_POSITION):
            raise InvalidInput(f"{key} must be a whole number from 0 to {MAX_POSITION}.")
        bounds.append(value)
    return _region(endpoint, name, bounds[0], bounds[1], strict=True)


def _region(endpoint: Endpoint, name: str, start: int | None, end: int | None, *,
            strict: bool) -> Region:
    """``strict``: a POST region may not be empty (start >= end); a GET's may (start > end)."""
    if not name or len(name) > 255 or not name.isprintable():
        raise InvalidInput("referenceName must be a sequence name such as chr1.")
    if name == UNPLACED and (start is not None or end is not None):
        raise InvalidInput("start and end do not apply to referenceName=*.")
    if name == UNPLACED and endpoint is not Endpoint.READS:
        raise InvalidInput("referenceName=* (unplaced unmapped reads) applies to reads only.")
    if start is not None and end is not None and (start > end or (strict and start == end)):
        raise InvalidRange(f"start ({start}) must be less than end ({end}).")
    return Region(name, start, end)


def _number(values: Mapping[str, str], key: str) -> int | None:
    if key not in values:
        return None
    value = values[key]
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_POSITION:
        raise InvalidInput(f"{key} must be a whole number from 0 to {MAX_POSITION}, "
                           f"got {value[:40]!r}.")
    return int(value)


def _comma_list(value: str) -> tuple[str, ...]:
    return tuple(item for item in value.split(",") if item) if value else ()


def _string_list(body: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = body[key]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidInput(f"{key} must be a list of strings.")
    return tuple(value)
