"""report.csv: one row per item reported `known` or `similar`, with its best match.

Formula injection: every cell goes through `vigil.core.csvcell.safe_cell` (text a spreadsheet would run gets a
leading single quote; numbers, booleans and empty cells are never changed), as in every CSV vigil writes.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from vigil.core.csvcell import safe_cell
from vigil.core.fsio import atomic_write
from vigil.core.text import shown
from vigil.report.common import MATCH_FIELDS, best_match, is_reported, read_items

COLUMNS = (
    "path",
    "size",
    "md5",
    "sha1",
    "sha256",
    "pdq",
    "pdq_quality",
    "media_type",
    "deleted",
    "verdict",
    *MATCH_FIELDS,
    "match_count",
)


def report_cell(value: Any) -> str | int | float:
    """A report.csv cell: `safe_cell`, with bidi and zero-width characters in text shown as <U+XXXX>
    (items.jsonl keeps them raw)."""
    return safe_cell(shown(value) if isinstance(value, str) else value)


def report_row(item: dict[str, Any]) -> list[str | int | float]:
    match = best_match(item)
    values = {**{c: item.get(c) for c in COLUMNS}, **{f: match.get(f) for f in MATCH_FIELDS}}
    values["deleted"] = bool(item.get("deleted"))
    values["match_count"] = len(item.get("matches") or [])
    return [report_cell(values[c]) for c in COLUMNS]


def write_report_csv(out_dir: Path) -> Path:
    """Write out_dir/report.csv from out_dir/items.jsonl (streamed) and return its path."""
    path = out_dir / "report.csv"
    with atomic_write(path, newline="") as fh:
        writer = csv.writer(fh)  # RFC 4180: CRLF rows, so a CR inside a path gets quoted too
        writer.writerow(COLUMNS)
        for item in read_items(out_dir):
            if is_reported(item):
                writer.writerow(report_row(item))
    return path
