"""Geometry of the server-drawn SVG charts: median TPM by tissue, and tissue by isoform.

Only coordinates and class names come from here; colours live in style.css, since the
Content-Security-Policy allows no inline styles and pages run no script.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from datasets.results.queries import IsoformValue, TissueValue

ROW_HEIGHT = 22
LABEL_WIDTH = 240
BAR_AREA = 380
VALUE_WIDTH = 90
CELL = 30
COLUMN_LABELS = 130
SHADES = 9  # heat-0 … heat-8 in style.css


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    y: int
    width: float


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    label_width: int
    bars: list[Bar]


@dataclass(frozen=True)
class Cell:
    x: int
    y: int
    shade: int
    tissue: str
    transcript_id: str
    value: float


@dataclass(frozen=True)
class Heatmap:
    width: int
    height: int
    label_width: int
    top: int
    cell: int
    columns: list[tuple[int, str]]  # (x of the column's centre, transcript id)
    rows: list[tuple[int, str]]  # (y of the row's top, tissue)
    cells: list[Cell]
    maximum: float


def bar_chart(values: Sequence[TissueValue]) -> BarChart:
    """Linear bars, as GTEx shows medians: a marker gene's one tall bar is the point."""
    largest = max((value.median_tpm for value in values), default=0.0) or 1.0
    bars = [Bar(value.tissue, value.median_tpm, index * ROW_HEIGHT,
                round(BAR_AREA * value.median_tpm / largest, 1))
            for index, value in enumerate(values)]
    return BarChart(LABEL_WIDTH + BAR_AREA + VALUE_WIDTH, len(bars) * ROW_HEIGHT + 4,
                    LABEL_WIDTH, bars)


def heatmap(values: Sequence[IsoformValue]) -> Heatmap:
    """Shades on log10(1 + TPM) relative to the gene's largest value, so a minor isoform
    that is still expressed stays visible next to the canonical one."""
    transcripts = sorted({value.transcript_id for value in values})
    tissues = sorted({value.tissue for value in values})
    column = {t: LABEL_WIDTH + index * CELL for index, t in enumerate(transcripts)}
    row = {t: COLUMN_LABELS + index * CELL for index, t in enumerate(tissues)}
    maximum = max((value.median_tpm for value in values), default=0.0)
    scale = math.log10(1 + maximum) or 1.0
    cells = [Cell(column[v.transcript_id], row[v.tissue],
                  min(SHADES - 1, round((SHADES - 1) * math.log10(1 + v.median_tpm) / scale)),
                  v.tissue, v.transcript_id, v.median_tpm) for v in values]
    return Heatmap(
        width=LABEL_WIDTH + len(transcripts) * CELL + COLUMN_LABELS,
        height=COLUMN_LABELS + len(tissues) * CELL + 4,
        label_width=LABEL_WIDTH, top=COLUMN_LABELS, cell=CELL,
        columns=[(x + CELL // 2, t) for t, x in column.items()],
        rows=[(y, t) for t, y in row.items()], cells=cells, maximum=maximum,
    )
