"""What a match is, the order a file's matches are reported in, and the verdict they add up to.

The scan writes these into ``items.jsonl`` (DESIGN §5); the matching API reports the same fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil import signals
from vigil.core.categories import KNOWN_GOOD

CATEGORY_ORDER = "ABCIXPNG"
# Severity rank of each category; no category, or one outside the vocabulary, ranks after them all.
SEVERITY = {code: i for i, code in enumerate(CATEGORY_ORDER)}


@dataclass(frozen=True, slots=True)
class Match:
    signal: str
    distance: int
    entry_id: int
    category: str | None
    series: str | None
    source: str | None
    # Videos (vpdq): share of the scanned video's frames found in the known one, and the reverse.
    query_match: float | None = None
    compared_match: float | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "signal": self.signal,
            "distance": self.distance,
            "entry_id": self.entry_id,
            "category": self.category,
            "series": self.series,
            "source": self.source,
        }
        if self.query_match is not None:
            out["query_match_percent"] = round(self.query_match, 1)
            out["compared_match_percent"] = round(self.compared_match or 0.0, 1)
        return out


def rank(m: Match) -> tuple[int, int, int, int]:
    """Sort key: exact before perceptual, then nearer, then more severe, then by entry id."""
    exact = 0 if signals.get(m.signal).exact else 1
    severity = SEVERITY.get(m.category or "", len(SEVERITY))
    return (exact, m.distance, severity, m.entry_id)


def verdict(matches: list[Match], failed: bool) -> str:
    """known: an exact hash of a known (non-good) entry; known_good: only known-good exact hashes;
    similar: a perceptual match of a known entry; error: nothing matched and hashing failed."""
    exact = [m for m in matches if signals.get(m.signal).exact]
    if any(m.category != KNOWN_GOOD for m in exact):
        return "known"
    if exact:
        return "known_good"
    if any(m.category != KNOWN_GOOD for m in matches):
        return "similar"
    return "error" if failed else "unknown"
