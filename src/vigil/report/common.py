"""Reading a scan's output folder and writing report files, shared by the report writers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Most severe first (DESIGN.md §3); anything else (None, an unknown code) sorts after these.
CATEGORY_ORDER = ("A", "B", "C", "I", "X", "P", "N", "G")
REPORTED = ("known", "similar")
MATCH_FIELDS = ("signal", "distance", "entry_id", "category", "series", "source")


def read_items(out_dir: Path) -> Iterator[dict[str, Any]]:
    """Stream items.jsonl one record at a time (it can hold millions of lines)."""
    with open(out_dir / "items.jsonl", encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested too deep
                raise ValueError(f"items.jsonl line {number}: not JSON ({exc})") from None
            if not isinstance(record, dict):
                raise ValueError(f"items.jsonl line {number}: not a JSON object")
            yield record


def read_summary(out_dir: Path) -> dict[str, Any]:
    """summary.json, or an empty dict when the scan wrote none (the reports then show what items say)."""
    path = out_dir / "summary.json"
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def is_reported(item: dict[str, Any]) -> bool:
    return item.get("verdict") in REPORTED


def severity(category: str | None) -> int:
    """Rank of a category code, 0 = most severe; ungraded or unknown codes rank last."""
    return CATEGORY_ORDER.index(category) if category in CATEGORY_ORDER else len(CATEGORY_ORDER)


def best_match(item: dict[str, Any]) -> dict[str, Any]:
    """The match with the smallest distance, ties going to the most severe category; {} if none.

    A missing distance counts as 0 (an exact, cryptographic match).
    """
    matches = [m for m in item.get("matches") or [] if isinstance(m, dict)]
    if not matches:
        return {}
    return min(matches, key=lambda m: (m.get("distance") or 0, severity(m.get("category"))))
