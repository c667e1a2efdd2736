"""report.csv: one row per item reported `known` or `similar`, with its best match.

Formula injection: evidence file names (and series or source names imported from other parties) are chosen
by whoever made them, and spreadsheets run a cell starting with `=`, `+`, `-` or `@` (also tab or carriage
return) as a formula. Every text cell that starts with one of these is written with a leading single quote
(`=cmd|...` becomes `'=cmd|...`), as OWASP recommends and forensic tools commonly do. A reader that wants the
original value strips one leading `'` from such a cell. Numbers, booleans and empty cells are never changed.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

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
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str | int | float:
    """A CSV cell: None is empty, booleans are true/false, text that a spreadsheet would run is quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = shown(str(value))  # bidi and zero-width characters as <U+XXXX>: items.jsonl keeps them raw
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def report_row(item: dict[str, Any]) -> list[str | int | float]:
    match = best_match(item)
    values = {**{c: item.get(c) for c in COLUMNS}, **{f: match.get(f) for f in MATCH_FIELDS}}
    values["deleted"] = bool(item.get("deleted"))
    values["match_count"] = len(item.get("matches") or [])
    return [safe_cell(values[c]) for c in COLUMNS]


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
