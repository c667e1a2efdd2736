"""One pass over items.jsonl for report.html: matched items (kept), errors (capped), counts (tallied)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from vigil.core.categories import CATEGORIES
from vigil.report.common import best_match, is_reported, severity

MAX_ERRORS_LISTED = 10_000
UNGRADED = "ungraded"


@dataclass(slots=True)
class Match:
    item: dict[str, Any]
    best: dict[str, Any]


@dataclass(slots=True)
class Series:
    name: str | None
    matches: list[Match]


@dataclass(slots=True)
class CategoryGroup:
    code: str | None
    meaning: str
    series: list[Series]

    @property
    def count(self) -> int:
        return sum(len(s.matches) for s in self.series)


@dataclass(slots=True)
class Collected:
    matches: list[Match] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    items: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)


def collect(items: Iterable[dict[str, Any]], max_errors: int = MAX_ERRORS_LISTED) -> Collected:
    """Keep the matched items and up to `max_errors` error items; count everything else."""
    out = Collected()
    for item in items:
        out.items += 1
        out.verdicts[str(item.get("verdict"))] += 1
        if item.get("status") == "error" or item.get("verdict") == "error":
            out.error_count += 1
            if len(out.errors) < max_errors:
                out.errors.append(item)
        if is_reported(item):
            best = best_match(item)
            out.matches.append(Match(item=item, best=best))
            out.categories[_text(best.get("category")) or UNGRADED] += 1
    return out


def group_matches(matches: Iterable[Match]) -> list[CategoryGroup]:
    """Categories most severe first (A, B, C, I, X, P, N, G, other codes, then ungraded), then series by
    name with the items of no series last, then items by path."""
    groups: defaultdict[str | None, defaultdict[str | None, list[Match]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for m in matches:
        groups[_text(m.best.get("category"))][_text(m.best.get("series"))].append(m)
    return [
        CategoryGroup(
            code=code,
            meaning=_meaning(code),
            series=[
                Series(name=name, matches=sorted(groups[code][name], key=lambda m: str(m.item.get("path"))))
                for name in sorted(groups[code], key=lambda s: (s is None, s or ""))
            ],
        )
        for code in sorted(groups, key=lambda c: (severity(c), c is None, c or ""))
    ]


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _meaning(code: str | None) -> str:
    if code is None:
        return "not yet graded"
    return CATEGORIES[code].meaning if code in CATEGORIES else ""
