"""Geometry of the horizontal bar charts that report.html draws as inline SVG (no script, no library)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

LABEL_WIDTH = 90
BAR_WIDTH = 300
ROW = 26
BAR_HEIGHT = 18
PAD = 8


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    count: int
    y: int
    width: float


@dataclass(frozen=True, slots=True)
class BarChart:
    title: str
    bars: tuple[Bar, ...]
    width: int
    height: int
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT

    @property
    def total(self) -> int:
        return sum(b.count for b in self.bars)


def bar_chart(title: str, counts: Mapping[str, int], labels: Iterable[str]) -> BarChart:
    """One bar per label, in the order given, scaled to the largest count."""
    rows = [(label, _count(counts.get(label))) for label in labels]
    top = max((n for _, n in rows), default=0) or 1
    bars = tuple(
        Bar(label=label, count=n, y=PAD + i * ROW, width=round(BAR_WIDTH * n / top, 1))
        for i, (label, n) in enumerate(rows)
    )
    return BarChart(
        title=title, bars=bars, width=LABEL_WIDTH + BAR_WIDTH + 80, height=2 * PAD + ROW * max(len(rows), 1)
    )


def _count(value: object) -> int:
    if isinstance(value, int | float | str):
        try:
            return max(int(value), 0)
        except ValueError:
            return 0
    return 0
