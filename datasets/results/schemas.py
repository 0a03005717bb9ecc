"""Query and output schemas of the open-results API and pages (input and output kept apart)."""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from datasets.results.ids import SYMBOL_PATTERN, Locus, variant_locus
from datasets.results.queries import SORT_KEYS, After, EqtlCriteria

FORMATS = ("json", "tsv", "csv")
DEFAULT_LIMIT = 100
_NAME = validate.Length(min=1, max=100)
_PROBABILITY = validate.Range(min=0.0, max=1.0)


class VariantField(fields.Field[Locus]):
    default_error_messages = {  # noqa: RUF012  (marshmallow's own class-level convention)
        "invalid": "Give a variant id like chr1_13550_G_A_b38, or chrom:pos like chr1:13550.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Locus:
        if not isinstance(value, str) or len(value) > 200:
            raise self.make_error("invalid")
        try:
            return variant_locus(value.strip())
        except ValueError:
            raise self.make_error("invalid") from None


class CursorField(fields.Field[After]):
    """The opaque ``next_cursor`` of a previous page: where the next page starts."""

    default_error_messages = {  # noqa: RUF012
        "invalid": "Not a cursor this API issued; pass next_cursor from the previous page as is.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> After:
        if not isinstance(value, str) or len(value) > 200:
            raise self.make_error("invalid")
        try:
            pval, row_id = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        except (binascii.Error, ValueError, TypeError):
            raise self.make_error("invalid") from None
        valid = (isinstance(pval, float | int) and not isinstance(pval, bool)
                 and math.isfinite(pval) and type(row_id) is int and 0 < row_id < 2**63)
        if not valid:
            raise self.make_error("invalid")
        return float(pval), row_id


def encode_cursor(after: After | None) -> str | None:
    if after is None:
        return None
    return base64.urlsafe_b64encode(json.dumps(list(after)).encode()).decode().rstrip("=")


class EqtlQuery(Schema):
    gene = fields.String(load_default=None, validate=_NAME)
    variant = VariantField(load_default=None)
    tissue = fields.String(load_default=None, validate=_NAME)
    max_pval = fields.Float(load_default=None, validate=_PROBABILITY)
    max_qval = fields.Float(load_default=None, validate=_PROBABILITY)
    limit = fields.Integer(load_default=None, validate=validate.Range(min=1, max=1000))
    cursor = CursorField(load_default=None)
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))

    @validates_schema
    def _one_page_or_all(self, data: dict[str, Any], **_: Any) -> None:
        """A download has every row, so paging it would silently cut it short."""
        if data["format"] != "json" and (data["limit"] is not None or data["cursor"] is not None):
            raise ValidationError("limit and cursor page the JSON answer; a download has every "
                                  "row.", "format")

    @post_load
    def _criteria(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        criteria = EqtlCriteria(gene=data["gene"], locus=data["variant"], tissue=data["tissue"],
                                max_pval=data["max_pval"], max_qval=data["max_qval"])
        return {"criteria": criteria, "after": data["cursor"],
                "limit": data["limit"] or DEFAULT_LIMIT, "format": data["format"]}


class GeneSuggestionQuery(Schema):
    """Part of a gene symbol, as typed so far into the search box."""

    q = fields.String(required=True, validate=[
        validate.Length(min=1, max=64),
        validate.Regexp(f"^{SYMBOL_PATTERN}$",
                        error="Letters, digits and . _ - / @ only, like TP5."),
    ])
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=20))


class DownloadQuery(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))


class TableQuery(Schema):
    """How a page sorts its eQTL table."""

    sort = fields.String(load_default="pval", validate=validate.OneOf(sorted(SORT_KEYS)))
    order = fields.String(load_default="asc", validate=validate.OneOf(["asc", "desc"]))


class SearchQuery(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=200))


class EqtlOut(Schema):
    gene_id = fields.String()
    gene_name = fields.String(allow_none=True)
    variant_id = fields.String()
    tissue = fields.String()
    tss_distance = fields.Integer()
    maf = fields.Float()
    pval_nominal = fields.Float()
    slope = fields.Float()
    slope_se = fields.Float()
    qval = fields.Float(allow_none=True)


class GeneOut(Schema):
    gene_id = fields.String()
    gene_name = fields.String(attribute="symbol", allow_none=True)


class GeneSuggestionsOut(Schema):
    genes = fields.List(fields.Nested(GeneOut), required=True)


class TissueValueOut(Schema):
    tissue = fields.String()
    median_tpm = fields.Float()


class IsoformValueOut(TissueValueOut):
    transcript_id = fields.String()


class EqtlPageOut(Schema):
    eqtls = fields.List(fields.Nested(EqtlOut), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class GeneExpressionOut(Schema):
    gene = fields.Nested(GeneOut, required=True)
    expression = fields.List(fields.Nested(TissueValueOut), required=True)


class IsoformExpressionOut(Schema):
    gene = fields.Nested(GeneOut, required=True)
    isoforms = fields.List(fields.Nested(IsoformValueOut), required=True)
