"""How an entry's effective grading follows from its assessments.

Policy (DESIGN.md §3): the most recent assessment from the most trusted source wins, field by field among
the assessments that state that field. An entry is *disputed* when the latest categories of two sources
differ (a source re-grading itself replaces its own view). Assessments themselves are never changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Grading:
    """One assessment, reduced to what the policy needs. `order` breaks ties between equal times."""

    trust: int
    created_at: datetime
    order: int
    source_id: int
    category: str | None
    series_id: int | None
    victim_identified: bool | None


@dataclass(frozen=True, slots=True)
class Effective:
    category: str | None
    series_id: int | None
    victim_identified: bool
    disputed: bool
    source_id: int | None


def effective(gradings: Iterable[Grading]) -> Effective:
    if isinstance(gradings, list) and len(gradings) == 1:  # the common case in bulk imports
        g = gradings[0]
        return Effective(g.category, g.series_id, bool(g.victim_identified), False, g.source_id)
    ranked = sorted(gradings, key=lambda g: (g.trust, g.created_at, g.order), reverse=True)
    category = next((g for g in ranked if g.category is not None), None)
    series = next((g.series_id for g in ranked if g.series_id is not None), None)
    victim = next((g.victim_identified for g in ranked if g.victim_identified is not None), False)
    # A source that re-grades itself is not a dispute: only each source's latest category counts.
    latest: dict[int, str] = {}
    for g in sorted(ranked, key=lambda g: (g.created_at, g.order)):
        if g.category is not None:
            latest[g.source_id] = g.category
    categories = set(latest.values())
    return Effective(
        category=category.category if category else None,
        series_id=series,
        victim_identified=bool(victim),
        disputed=len(categories) > 1,
        source_id=category.source_id if category else (ranked[0].source_id if ranked else None),
    )
