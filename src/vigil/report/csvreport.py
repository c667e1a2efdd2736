"""report.csv: one row per item reported `known` or `similar`, with its best match."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from vigil.report.common import REPORTED, best_match, read_items, write_atomic

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
    "signal",
    "distance",
    "entry_id",
    "category",
    "series",
    "source",
    "match_count",
)
# Spreadsheets run cells that start with these as formulas; evidence file names are attacker-chosen.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def write_report_csv(out_dir: Path) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for item in read_items(out_dir):
        if item.get("verdict") not in REPORTED:
            continue
        match = best_match(item) or {}
        row = {
            **item,
            **{k: match.get(k) for k in ("signal", "distance", "entry_id", "category", "series", "source")},
        }
        row["match_count"] = len(item.get("matches") or [])
        row["deleted"] = "true" if item.get("deleted") else "false"
        writer.writerow([safe_cell(row.get(c)) for c in COLUMNS])
    return write_atomic(out_dir / "report.csv", buf.getvalue())
