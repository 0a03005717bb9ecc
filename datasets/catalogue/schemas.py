"""JSON input and output schemas of the catalogue and download API."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from access.duo.codes import UnknownDuoCode, describe, resolve_code
from access.requests.schemas import DISEASE_ID
from core.schemas import MAX_ID, ChangesIn, StrictBoolean
from datasets.catalogue.manifest import MAX_NAME_LENGTH, location_problems
from datasets.catalogue.models import DataFile, FileKind, Tier

# Accessions are identifiers people type into manifests and URLs: no spaces, no slashes.
ACCESSION = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
MAX_TEXT = 10_000


class FileOut(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    tier = fields.String()
    description = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    md5 = fields.String()
    # An indexed VCF, BAM or CRAM, which htsget slices (/ga4gh/htsget/v1/variants or /reads).
    data_format = fields.String(allow_none=True, metadata={"enum": ["VCF", "BAM", "CRAM", None]})
    index = fields.Method("_index", metadata={"type": "object", "nullable": True})

    def _index(self, data_file: DataFile) -> dict[str, Any] | None:
        if data_file.index_key is None:
            return None
        return {
            "format": data_file.index_format,
            "size": data_file.index_size,
            "sha256": data_file.index_sha256,
            "md5": data_file.index_md5,
        }


class RetiredFileOut(FileOut):
    retired_at = fields.DateTime()


class DuoTermOut(Schema):
    id = fields.String()
    shorthand = fields.String()
    label = fields.String()


class StudyOut(Schema):
    id = fields.Integer()
    accession = fields.String()
    title = fields.String()


class StudyDetailOut(StudyOut):
    description = fields.String()
    dataset_ids = fields.Method(
        "_dataset_ids", metadata={"type": "array", "items": {"type": "integer"}}
    )

    def _dataset_ids(self, obj: Any) -> list[int]:
        return [dataset.id for dataset in obj.datasets]


class StudyListOut(Schema):
    studies = fields.List(fields.Nested(StudyDetailOut), required=True)


def _accession(longest: int, example: str) -> fields.String:
    return fields.String(
        required=True,
        metadata={"example": example},
        validate=[
            validate.Length(min=1, max=longest),
            validate.Regexp(ACCESSION, error="Use letters, digits, '.', '_' and '-' only."),
        ],
    )


class StudyIn(Schema):
    accession = _accession(32, "phs000424")
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    description = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))


class StudyUpdateIn(ChangesIn, StudyIn):
    pass


class DuoCode(fields.String):
    """A DUO term given by id or shorthand, loaded as its id (access/duo/duo.csv)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return resolve_code(text).id
        except UnknownDuoCode as exc:
            raise ValidationError(str(exc)) from None


class DatasetIn(Schema):
    """A consent group. ``tier`` controlled needs the committee that governs it; open data
    has none. DS (disease-specific) needs its disease terms, and only DS takes them."""

    study_id = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID)
    )
    accession = _accession(64, "phs000424.v10.p2.c1")
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    tier = fields.String(required=True, validate=validate.OneOf([t.value for t in Tier]))
    committee_id = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1, max=MAX_ID)
    )
    duo_codes = fields.List(
        DuoCode(validate=validate.Length(max=16)),
        load_default=list,
        validate=validate.Length(max=20),
        metadata={
            "description": "DUO ids (DUO:0000042) or shorthands (GRU); "
            "at most one data use permission."
        },
    )
    duo_disease_ids = fields.List(
        fields.String(
            validate=[
                validate.Length(max=64),
                validate.Regexp(DISEASE_ID, error="Use an ontology term id such as MONDO:0005148."),
            ]
        ),
        load_default=list,
        validate=validate.Length(max=20),
    )
    use_limitation_text = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))

    @validates("duo_disease_ids")
    def _unique_diseases(self, value: list[str], **_: Any) -> None:
        if len(set(value)) != len(value):
            raise ValidationError("List each disease once.")


class DatasetUpdateIn(ChangesIn, DatasetIn):
    pass


def _key(field: str, *, folder: bool = False, **options: Any) -> fields.String:
    """A storage key as the manifest takes one: relative, no '.' or '..' parts; a prefix
    (``folder``) may end in "/"."""

    def check(value: str) -> None:
        problems = location_problems(value.removesuffix("/") if folder else value)
        if problems:
            raise ValidationError(problems[0].replace("location", field, 1))

    return fields.String(validate=check, **options)


def _hex(length: int, **options: Any) -> fields.String:
    return fields.String(
        validate=validate.Regexp(
            f"^[0-9a-f]{{{length}}}$", error=f"Give {length} lowercase hexadecimal digits."
        ),
        **options,
    )


class FileIn(Schema):
    """One object already in storage; what it says is checked against the store."""

    key = _key("key", required=True, metadata={"example": "phs000424/genotypes/chr1.vcf.gz"})
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in FileKind]))
    tier = fields.String(
        validate=validate.OneOf([t.value for t in Tier]),
        metadata={
            "description": "Left out: the dataset's (open without a committee, else controlled)."
        },
    )
    name = fields.String(
        validate=validate.Length(min=1, max=MAX_NAME_LENGTH),
        metadata={"description": "Left out: the key's last part."},
    )
    description = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))
    size = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    sha256 = _hex(64, required=True)
    md5 = _hex(32, required=True)
    index_key = _key(
        "index_key",
        load_default=None,
        allow_none=True,
        metadata={
            "description": "A VCF's .tbi or .csi, a BAM's .bai: checked to belong to the file."
        },
    )
    index_sha256 = _hex(64, load_default=None, allow_none=True)


class FileUpdateIn(ChangesIn):
    description = fields.String(required=True, validate=validate.Length(max=MAX_TEXT))


class PrefixIn(Schema):
    prefix = _key(
        "prefix", folder=True, required=True, metadata={"example": "phs000424/genotypes/"}
    )
    kind = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf([k.value for k in FileKind]),
        metadata={
            "description": "For every object; left out, VCFs are genotype "
            "and BAMs alignment, and others are refused."
        },
    )
    description = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))
    dry_run = StrictBoolean(load_default=False)


class PlannedFileOut(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    size = fields.Integer(required=True)
    # Read from the store when registering; a dry run does not read the data's bytes.
    sha256 = fields.String(allow_none=True)
    md5 = fields.String(allow_none=True)
    index_key = fields.String(allow_none=True)
    id = fields.Integer(allow_none=True)


class SkippedOut(Schema):
    key = fields.String(required=True)
    reason = fields.String(required=True)


class PrefixPlanOut(Schema):
    dry_run = fields.Boolean(required=True)
    files = fields.List(fields.Nested(PlannedFileOut), required=True)
    skipped = fields.List(fields.Nested(SkippedOut), required=True)


class DatasetOut(Schema):
    id = fields.Integer()
    accession = fields.String()
    name = fields.String()
    study = fields.Nested(StudyOut)
    tier = fields.Method("_tier", metadata={"type": "string", "enum": ["controlled", "open"]})
    data_use = fields.Method(
        "_data_use",
        metadata={
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "shorthand": {"type": "string"},
                    "label": {"type": "string"},
                },
            },
        },
    )
    # The disease terms a DS (disease-specific) limitation names, e.g. "MONDO:0005148".
    duo_disease_ids = fields.List(fields.String())
    use_limitation_text = fields.String()
    committee_id = fields.Integer(allow_none=True)
    files = fields.Nested(FileOut, many=True, attribute="live_files")
    # Retired files stay in the catalogue's history; nothing is issued for them (410).
    retired_files = fields.Nested(RetiredFileOut, many=True)

    def _tier(self, obj: Any) -> str:
        return "controlled" if obj.committee_id is not None else "open"

    def _data_use(self, obj: Any) -> list[dict[str, Any]]:
        dumped: list[dict[str, Any]] = DuoTermOut(many=True).dump(
            [describe(code) for code in obj.duo_codes]
        )
        return dumped


class StandingOut(Schema):
    """Whether the caller may download the dataset's controlled files now (open files:
    always), and where to go if not: sign in, request access or accept the agreement."""

    may_download = fields.Boolean(required=True)
    reason = fields.String(required=True, metadata={"enum": [
        "open", "grant", "visa", "sign_in", "accept_agreement", "no_grant"]})
    next_step = fields.String(required=True, allow_none=True,
                              metadata={"description": "An absolute URL, or null."})


class DatasetDetailOut(DatasetOut):
    your_access = fields.Nested(StandingOut, dump_only=True)


class DatasetSummaryOut(DatasetOut):
    class Meta:
        exclude = ("files", "retired_files")


class DatasetListOut(Schema):
    datasets = fields.List(fields.Nested(DatasetSummaryOut), required=True)
