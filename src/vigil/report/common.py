"""Reading a scan's output folder, shared by the report writers."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CATEGORY_ORDER = ("A", "B", "C", "I", "X", "P", "N", "G")
REPORTED = ("known", "similar")


def read_items(out_dir: Path) -> Iterator[dict[str, Any]]:
    with open(out_dir / "items.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def read_summary(out_dir: Path) -> dict[str, Any]:
    path = out_dir / "summary.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def best_match(item: dict[str, Any]) -> dict[str, Any] | None:
    """The smallest distance; ties go to the most severe category."""
    matches = item.get("matches") or []
    if not matches:
        return None
    return min(matches, key=lambda m: (m.get("distance", 0), severity(m.get("category"))))


def severity(category: str | None) -> int:
    return CATEGORY_ORDER.index(category) if category in CATEGORY_ORDER else len(CATEGORY_ORDER)


def write_atomic(path: Path, text: str) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path
