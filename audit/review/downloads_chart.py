"""The geometry of the downloads chart, computed here and drawn by a template as inline SVG.

No JavaScript and no style attributes: the page works under ``default-src 'self'``, and
its colours come from classes in style.css.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from audit.review.reports import DayCount

WIDTH, HEIGHT = 960, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 36
MAX_X_LABELS = 10
SERIES = (("urls", "URLs issued"), ("serves", "files served"))


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: str
    title: str


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: int
    right: float
    baseline: float
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]


def downloads_chart(days: Sequence[DayCount]) -> BarChart:
    """Two bars a day (URLs issued, files served) on a shared, rounded-up scale."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = nice_ceiling(max((max(d.urls_issued, d.files_served) for d in days), default=0))
    slot = plot_width / max(len(days), 1)
    bar_width = slot * 0.4
    baseline = float(TOP + plot_height)
    bars: list[Bar] = []
    for index, day in enumerate(days):
        for offset, (series, label), value in zip(
            (0.1, 0.5), SERIES, (day.urls_issued, day.files_served), strict=True
        ):
            height = plot_height * value / top
            bars.append(Bar(round(LEFT + slot * (index + offset), 2), round(baseline - height, 2),
                            round(bar_width, 2), round(height, 2), series,
                            f"{day.day.isoformat()}: {value} {label}"))
    every = math.ceil(len(days) / MAX_X_LABELS) or 1
    x_ticks = [Tick(round(LEFT + slot * (index + 0.5), 2), day.day.strftime("%b %d"))
               for index, day in enumerate(days) if index % every == 0]
    y_ticks = [Tick(round(baseline - plot_height * step / 4, 2), _count_label(top * step / 4))
               for step in range(5)]
    return BarChart(WIDTH, HEIGHT, LEFT, float(WIDTH - RIGHT), baseline, bars, y_ticks, x_ticks)


def nice_ceiling(value: int) -> int:
    """The smallest 4 x (1, 2, 3 or 5 x a power of ten) that is at least ``value``.

    The axis has four steps, so each step is then a round number.
    """
    if value <= 4:
        return 4
    step = value / 4
    magnitude = 10 ** math.floor(math.log10(step))
    factor = next(f for f in (1, 2, 3, 5, 10) if f * magnitude >= step)
    return int(factor * magnitude * 4)


def _count_label(value: float) -> str:
    return f"{value:g}" if value < 10_000 else f"{value / 1000:g}k"
