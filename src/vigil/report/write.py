"""All of a scan's reports at once, as `vigil scan` and `vigil demo` write them after the scan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vigil.core import names
from vigil.report.csvreport import write_report_csv
from vigil.report.html import write_report_html
from vigil.report.thumbs import make_thumbnail
from vigil.sources.locator import SEP, read_evidence

MAX_CONTAINER_THUMBNAILS = 200  # members of containers are found by listing the container: cap how many


def write_reports(out: Path, *, thumbnails: bool, max_pixels: int) -> None:
    """report.csv and report.html from the items.jsonl and summary.json in `out`; with `thumbnails`, the
    matched pictures are read again (read-only) for report.html's blurred greyscale thumbnails."""
    write_report_csv(out)
    inside = 0

    def thumbnail(item: dict[str, Any]) -> bytes | None:
        nonlocal inside
        path = names.from_fields(item)  # the name as on disk, even if it is not valid UTF-8
        if SEP in path:
            inside += 1
            if inside > MAX_CONTAINER_THUMBNAILS:
                return None
        data = read_evidence(path)
        return make_thumbnail(data, max_pixels=max_pixels) if data is not None else None

    write_report_html(out, thumbnail if thumbnails else None)
