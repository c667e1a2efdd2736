"""summary.json as the header and summary tables of report.html need it: every field optional, extras kept."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.report.charts import BarChart, bar_chart
from vigil.report.collect import UNGRADED, Collected
from vigil.report.common import CATEGORY_ORDER, severity

VERDICT_ORDER = ("known", "similar", "known_good", "unknown", "error")
# Shown in their own places in the page; any other top-level key goes to "Other details".
SHOWN_KEYS = frozenset(
    {
        "vigil_version",
        "scan_id",
        "case",
        "evidence",
        "store",
        "started_at",
        "finished_at",
        "duration_s",
        "counts",
        "verdicts",
        "categories",
        "series",
        "skipped",
        "settings",
        "throughput",
        "recall",
    }
)
MAX_DETAIL_ROWS = 500


def summary_view(summary: Mapping[str, Any], collected: Collected) -> dict[str, Any]:
    """Template variables: item, verdict, error and category counts from the pass over items.jsonl (the
    record the page lists), everything else from summary.json."""
    counts = _mapping(summary.get("counts"))
    verdict_labels = [*VERDICT_ORDER, *sorted(set(collected.verdicts) - set(VERDICT_ORDER))]
    category_labels = [c for c in CATEGORY_ORDER if c != "G" or collected.categories[c]]
    category_labels += sorted(set(collected.categories) - set(CATEGORY_ORDER) - {UNGRADED})
    category_labels += [UNGRADED] if collected.categories[UNGRADED] else []
    return {
        "case": summary.get("case"),
        "scan_id": summary.get("scan_id"),
        "vigil_version": summary.get("vigil_version"),
        "started_at": summary.get("started_at"),
        "finished_at": summary.get("finished_at"),
        "duration_s": summary.get("duration_s"),
        "store": _mapping(summary.get("store")),
        "counts": {
            "items": collected.items,
            "files_read": counts.get("files_read"),
            "bytes_read": counts.get("bytes_read"),
            "errors": collected.error_count,
            "skipped": counts.get("skipped", len(_list(summary.get("skipped")))),
        },
        "verdicts": [(v, collected.verdicts[v]) for v in verdict_labels],
        "verdict_mismatch": _mismatch(_mapping(summary.get("verdicts")), collected.verdicts),
        "throughput": _mapping(summary.get("throughput")),
        "evidence": [_mapping(e) for e in _list(summary.get("evidence"))],
        "skipped": [_mapping(s) for s in _list(summary.get("skipped"))],
        "settings": flatten(summary.get("settings")),
        "recall": flatten(summary.get("recall")),
        "other": flatten({k: v for k, v in summary.items() if k not in SHOWN_KEYS}),
        "charts": _charts(collected, verdict_labels, category_labels),
    }


def _charts(collected: Collected, verdicts: list[str], categories: list[str]) -> list[BarChart]:
    categories = sorted(categories, key=lambda c: (c == UNGRADED, severity(c)))
    return [
        bar_chart("Items by verdict", collected.verdicts, verdicts),
        bar_chart("Matched items by category", collected.categories, categories),
    ]


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested mappings as ("a.b", value) rows for a key/value table; lists are shown as they are."""
    if not isinstance(value, Mapping):
        return [(prefix, value)] if prefix else []
    rows: list[tuple[str, Any]] = []
    for key, inner in value.items():
        rows.extend(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        if len(rows) >= MAX_DETAIL_ROWS:
            return rows[:MAX_DETAIL_ROWS]
    return rows


def _mismatch(stated: Mapping[str, Any], counted: Mapping[str, int]) -> list[tuple[str, Any, int]]:
    """Verdicts whose count in summary.json differs from items.jsonl (a torn or edited scan folder)."""
    if not stated:
        return []
    keys = sorted(set(stated) | {k for k, n in counted.items() if n}, key=str)
    return [(k, stated.get(k, 0), counted.get(k, 0)) for k in keys if stated.get(k, 0) != counted.get(k, 0)]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
