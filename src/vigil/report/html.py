"""report.html: a self-contained page readable offline — summary, charts, matches, errors.

Thumbnails of matches are greyscale JPEGs, shown blurred until the reader clicks one (wellness default).
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2

from vigil.categories import CATEGORIES
from vigil.report.common import REPORTED, best_match, read_items, read_summary, severity, write_atomic

Thumbnail = Callable[[dict[str, Any]], bytes | None]
VERDICT_ORDER = ("known", "similar", "known_good", "unknown", "error")
MAX_ERRORS_LISTED = 1000


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("vigil.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def bar_chart(counts: dict[str, int], order: list[str]) -> dict[str, Any]:
    """Geometry for an inline SVG bar chart (the template draws it)."""
    rows = [(k, int(counts.get(k, 0))) for k in order]
    top = max((n for _, n in rows), default=0) or 1
    bars = [
        {"label": k, "count": n, "width": round(300 * n / top, 1), "y": 8 + i * 26}
        for i, (k, n) in enumerate(rows)
    ]
    return {"bars": bars, "height": 16 + 26 * len(rows)}


def write_report_html(
    out_dir: Path, thumbnail: Thumbnail | None = None, *, reveal_default: bool = False
) -> Path:
    summary = read_summary(out_dir)
    groups: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    errors: list[dict[str, Any]] = []
    error_count = 0
    for item in read_items(out_dir):
        if item.get("status") == "error":
            error_count += 1
            if len(errors) < MAX_ERRORS_LISTED:
                errors.append(item)
        if item.get("verdict") not in REPORTED:
            continue
        match = best_match(item) or {}
        data = thumbnail(item) if thumbnail else None
        groups[match.get("category") or "ungraded"][match.get("series") or ""].append(
            {
                "item": item,
                "match": match,
                "thumb": base64.b64encode(data).decode() if data else None,
            }
        )
    ordered = sorted(groups, key=lambda c: severity(c if c != "ungraded" else None))
    categories = [
        {
            "code": code,
            "meaning": CATEGORIES[code].meaning if code in CATEGORIES else "not yet graded",
            "count": sum(len(v) for v in groups[code].values()),
            "series": [
                {"name": s, "items": groups[code][s]}
                for s in sorted(groups[code], key=lambda s: (s == "", s))
            ],
        }
        for code in ordered
    ]
    verdicts = summary.get("verdicts", {})
    cat_counts = summary.get("categories", {})
    html = (
        _env()
        .get_template("report.html.j2")
        .render(
            summary=summary,
            categories=categories,
            errors=errors,
            error_count=error_count,
            verdict_chart=bar_chart(verdicts, list(VERDICT_ORDER)),
            category_chart=bar_chart(cat_counts, sorted(cat_counts, key=lambda c: severity(c))),
            reveal_default=reveal_default,
        )
    )
    return write_atomic(out_dir / "report.html", html)
