"""JSON output and query schemas of the catalogue and download API."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from access.duo.codes import describe
from datasets.catalogue.models import DataFile


class FileOut(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    tier = fields.String()
    description = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    md5 = fields.String()
    # An indexed VCF or BAM, which htsget slices (/ga4gh/htsget/v1/variants or /reads).
    data_format = fields.String(allow_none=True,
                                metadata={"enum": ["VCF", "BAM", "CRAM", None]})
    index = fields.Method("_index", metadata={"type": "object", "nullable": True})

    def _index(self, data_file: DataFile) -> dict[str, Any] | None:
        if data_file.index_key is None:
            return None
        return {"format": data_file.index_format, "size": data_file.index_size,
                "sha256": data_file.index_sha256, "md5": data_file.index_md5}


class DuoTermOut(Schema):
    id = fields.String()
    shorthand = fields.String()
    label = fields.String()


class StudyOut(Schema):
    id = fields.Integer()
    accession = fields.String()
    title = fields.String()


class DatasetOut(Schema):
    id = fields.Integer()
    accession = fields.String()
    name = fields.String()
    study = fields.Nested(StudyOut)
    tier = fields.Method("_tier", metadata={"type": "string", "enum": ["controlled", "open"]})
    data_use = fields.Method("_data_use", metadata={"type": "array", "items": {
        "type": "object", "properties": {"id": {"type": "string"},
                                         "shorthand": {"type": "string"},
                                         "label": {"type": "string"}}}})
    # The disease terms a DS (disease-specific) limitation names, e.g. "MONDO:0005148".
    duo_disease_ids = fields.List(fields.String())
    use_limitation_text = fields.String()
    committee_id = fields.Integer(allow_none=True)
    files = fields.Nested(FileOut, many=True)

    def _tier(self, obj: Any) -> str:
        return "controlled" if obj.committee_id is not None else "open"

    def _data_use(self, obj: Any) -> list[dict[str, Any]]:
        dumped: list[dict[str, Any]] = DuoTermOut(many=True).dump(
            [describe(code) for code in obj.duo_codes]
        )
        return dumped


class DatasetSummaryOut(DatasetOut):
    class Meta:
        exclude = ("files",)


class DatasetListOut(Schema):
    datasets = fields.List(fields.Nested(DatasetSummaryOut), required=True)
