"""The file formats of open results, read line by line: GTEx eQTL tables and GCT matrices.

Pure parsing, no database: each reader turns numbered lines into records, or into a
``RowProblem`` naming the line, so an import can report every bad line and load nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from datasets.results.ids import MAX_POSITION, VARIANT_ID, chromosome, variant_locus

MAX_TISSUE_NAME = 100
MAX_ID = 64


class RowProblem(NamedTuple):
    line: int
    message: str


class EqtlRecord(NamedTuple):
    gene_id: str
    gene_name: str | None
    variant_id: str
    chrom: str
    pos: int
    tissue: str
    tss_distance: int
    maf: float
    pval_nominal: float
    slope: float
    slope_se: float
    qval: float | None


@dataclass(frozen=True)
class GctHeader:
    tissues: tuple[str, ...]


@dataclass(frozen=True)
class GctRow:
    """A row of a median-TPM matrix: gene (or transcript) id, its second id, one TPM per tissue.

    For genes the second id is the symbol (GTEx's Description column); for transcripts it is
    the gene id.
    """

    line: int
    row_id: str
    second_id: str
    values: tuple[float, ...]


class RowError(ValueError):
    """One line's problem, worded for the report."""


_EQTL_REQUIRED = ("gene_id", "variant_id", "tss_distance", "maf", "pval_nominal", "slope",
                  "slope_se")


def eqtl_records(
    lines: Iterator[tuple[int, str]], tissue: str | None
) -> Iterator[EqtlRecord | RowProblem]:
    """Records of a GTEx eQTL table: the demo's layout (with gene_name, tissue and qval
    columns) or GTEx's per-tissue ``signif_variant_gene_pairs``, whose tissue is ``tissue``.
    Columns are found by name; others (ma_samples, pval_beta…) are ignored."""
    header = next(lines, None)
    if header is None:
        yield RowProblem(1, "the file is empty")
        return
    columns = header[1].split("\t")
    position = {name: index for index, name in enumerate(columns)}
    missing = [name for name in _EQTL_REQUIRED if name not in position]
    if missing:
        yield RowProblem(header[0], f"the header lacks column(s) {', '.join(missing)}")
        return
    if ("tissue" in position) == (tissue is not None):
        yield RowProblem(header[0], "the file has a tissue column; leave out --tissue"
                         if tissue else "the file has no tissue column; name it with --tissue")
        return
    try:
        parse = _EqtlParser(position, None if tissue is None else _tissue_name(tissue))
    except RowError as problem:
        yield RowProblem(header[0], f"--tissue: {problem}")
        return
    for number, line in lines:
        fields = line.split("\t")
        if len(fields) != len(columns):
            yield RowProblem(number, f"expected {len(columns)} tab-separated fields, "
                                     f"found {len(fields)}")
            continue
        try:
            yield parse(fields)
        except RowError as problem:
            yield RowProblem(number, str(problem))


class _EqtlParser:
    """Rows of one file's layout. Tens of millions of rows are read per import, so a quick
    path takes the common, well-formed row; whatever it doubts goes through the careful
    path, which alone decides and words the problem. Ids and tissue names repeat on many
    rows, so each is checked carefully once and then recognised."""

    def __init__(self, at: dict[str, int], tissue: str | None) -> None:
        self._at = at
        self._tissue = tissue
        self._columns = tuple(at[name] for name in _EQTL_REQUIRED)
        # -1 marks a column the file lacks (with no tissue column, the tissue is given).
        self._optional = tuple(at.get(name, -1) for name in ("gene_name", "tissue", "qval"))
        self._ids: set[str] = set()
        self._tissues: set[str] = set() if tissue is None else {tissue}

    def __call__(self, fields: list[str]) -> EqtlRecord:
        return self._quick(fields) or self._careful(fields)

    def _quick(self, fields: list[str]) -> EqtlRecord | None:
        gene_at, variant_at, distance_at, maf_at, pval_at, slope_at, se_at = self._columns
        name_at, tissue_at, qval_at = self._optional
        try:
            maf, pval = float(fields[maf_at]), float(fields[pval_at])
            slope, slope_se = float(fields[slope_at]), float(fields[se_at])
            distance = int(fields[distance_at])
            qtext = fields[qval_at] if qval_at >= 0 else ""
            qval = None if qtext in ("", "NA") else float(qtext)
        except ValueError:
            return None
        gene_id, name = fields[gene_at], fields[name_at] if name_at >= 0 else ""
        tissue = self._tissue or fields[tissue_at]
        match = VARIANT_ID.fullmatch(fields[variant_at])
        if match is None or not (
            0.0 <= maf <= 0.5 and 0.0 <= pval <= 1.0 and math.isfinite(slope)
            and 0.0 <= slope_se < math.inf and abs(distance) <= MAX_POSITION
            and (qval is None or 0.0 <= qval <= 1.0) and gene_id in self._ids
            and (not name or name in self._ids) and tissue in self._tissues
            and 1 <= (pos := int(match[2])) <= MAX_POSITION
        ):
            return None
        return EqtlRecord(gene_id, name or None, match[0], chromosome(match[1]), pos, tissue,
                          distance, maf, pval, slope, slope_se, qval)

    def _careful(self, fields: list[str]) -> EqtlRecord:
        at, tissue_at = self._at, self._optional[1]
        variant_id = fields[at["variant_id"]]
        try:
            locus = variant_locus(variant_id)
        except ValueError as exc:
            raise RowError(f"variant_id: {exc}") from None
        if locus.variant_id is None:
            raise RowError(f"variant_id {variant_id!r} is a position, not a variant id")
        name = fields[at["gene_name"]] if "gene_name" in at else ""
        qval = fields[at["qval"]] if "qval" in at else "NA"
        record = EqtlRecord(
            gene_id=_identifier("gene_id", fields[at["gene_id"]]),
            gene_name=_identifier("gene_name", name) if name else None,
            variant_id=variant_id, chrom=locus.chrom, pos=locus.pos,
            tissue=self._tissue or _tissue_name(fields[tissue_at]),
            tss_distance=_integer("tss_distance", fields[at["tss_distance"]]),
            maf=_number("maf", fields[at["maf"]], 0.0, 0.5),
            pval_nominal=_number("pval_nominal", fields[at["pval_nominal"]], 0.0, 1.0),
            slope=_number("slope", fields[at["slope"]], -math.inf, math.inf),
            slope_se=_number("slope_se", fields[at["slope_se"]], 0.0, math.inf),
            qval=None if qval in ("", "NA") else _number("qval", qval, 0.0, 1.0),
        )
        self._ids.update(filter(None, (record.gene_id, record.gene_name)))
        self._tissues.add(record.tissue)
        return record


_GCT_IDS = {"gene": ("Name", "Description"), "transcript": ("transcript_id", "gene_id")}


def gct_records(
    lines: Iterator[tuple[int, str]], kind: str
) -> Iterator[GctHeader | GctRow | RowProblem]:
    """A GCT 1.2 median-TPM matrix: its tissues first, then one record per row."""
    preamble = [next(lines, (number, None)) for number in (1, 2, 3)]
    version, dimensions, header = (text for _, text in preamble)
    if version is None or version.strip() != "#1.2":
        yield RowProblem(1, "a GCT file starts with the line #1.2")
        return
    declared = (dimensions or "").split("\t")
    if len(declared) != 2 or not all(part.isdigit() for part in declared):
        yield RowProblem(2, "the second line must give the row and column counts")
        return
    columns = (header or "").split("\t")
    expected = _GCT_IDS[kind]
    if tuple(columns[:2]) != expected:
        yield RowProblem(3, f"a {kind} matrix names its first columns {' and '.join(expected)}")
        return
    try:
        tissues = tuple(_tissue_name(name) for name in columns[2:])
    except RowError as problem:
        yield RowProblem(3, str(problem))
        return
    if not tissues or len(set(tissues)) != len(tissues) or int(declared[1]) != len(tissues):
        yield RowProblem(3, f"expected {declared[1]} distinct tissue columns, found "
                            f"{len(set(tissues))}")
        return
    yield GctHeader(tissues)
    rows = 0
    for number, line in lines:
        rows += 1
        fields = line.split("\t")
        if len(fields) != len(columns):
            yield RowProblem(number, f"expected {len(columns)} tab-separated fields, "
                                     f"found {len(fields)}")
            continue
        try:
            values = tuple(_number(tissue, text, 0.0, math.inf)
                           for tissue, text in zip(tissues, fields[2:], strict=True))
            yield GctRow(number, _identifier(expected[0], fields[0]),
                         _identifier(expected[1], fields[1]), values)
        except RowError as problem:
            yield RowProblem(number, str(problem))
    if rows != int(declared[0]):
        yield RowProblem(2, f"the file declares {declared[0]} rows but has {rows}")


def _identifier(column: str, text: str) -> str:
    if not text or len(text) > MAX_ID or text != text.strip():
        raise RowError(f"{column} {text[:80]!r} is empty, too long or padded with spaces")
    return text


def _tissue_name(text: str) -> str:
    if not text or len(text) > MAX_TISSUE_NAME or text != text.strip() or "/" in text:
        raise RowError(f"tissue {text[:120]!r} is empty, too long, padded or contains '/'")
    return text


def _integer(column: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise RowError(f"{column} {text[:40]!r} is not a whole number") from None
    if abs(value) > MAX_POSITION:
        raise RowError(f"{column} {value} is out of range")
    return value


def _number(column: str, text: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise RowError(f"{column} {text[:40]!r} is not a number") from None
    if not (math.isfinite(value) and low <= value <= high):
        raise RowError(f"{column} {text[:40]!r} is outside [{low:g}, {high:g}]")
    return value
