"""Hotline report bundles: the matches of a scan, packaged for a report to a hotline or to NCMEC's
CyberTipline — prepared here, never submitted over the network.

`vigil hotline SCAN_DIR --out DIR --reporter-name ... --reporter-email ...` writes into DIR:

- ``report.json`` — one report, its sections named after the CyberTipline reporting schema:
  ``incidentSummary`` (``incidentType``, ``incidentDateTime`` = when the scan started, ``reportCreated``),
  ``reporter`` (``reportingPerson``: ``name``, ``email``, ``phone``; ``organization``),
  ``internetDetails`` (the URLs among the locations, if any), and ``fileDetails``: one object per matched
  file with ``fileName``, ``location`` (its path, ``container!/member`` inside archives and disk images,
  or its URL), ``fileSize``, ``mediaType``, ``hashes`` (md5, sha1, sha256, pdq when computed),
  ``deleted``, ``matchType`` (``exact`` or ``perceptual``), ``category`` (vigil's code, DESIGN.md §3, and
  ``categoryVics``), ``series``, ``matchedEntryIds`` and ``source`` (whose grading matched);
  ``additionalInfo`` carries the scan's evidence manifest and vigil's version.
- ``files.csv`` — the same file details, a row each (for spreadsheet-based hotline workflows); file names,
  locations and series are evidence or partner data, so every cell goes through
  `vigil.core.csvcell.safe_cell` (a cell a spreadsheet would run as a formula gets a leading `'`).
- ``SHA256SUMS`` — the sha256 of both files, so the package can be checked on receipt.

Only items whose verdict is ``known`` or ``similar`` are reported; known-good and unknown items never.
No image bytes are included: a hotline receives hashes and locations, and asks for content through
its own lawful channel.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vigil import __version__
from vigil.core.categories import to_vics
from vigil.core.csvcell import safe_cell
from vigil.core.errors import VigilError
from vigil.core.fsio import write_text_atomic
from vigil.report.common import read_items
from vigil.sources import locator

HASHES = ("md5", "sha1", "sha256", "pdq")
CSV_COLUMNS = (
    "fileName",
    "location",
    "fileSize",
    "mediaType",
    "md5",
    "sha1",
    "sha256",
    "pdq",
    "deleted",
    "matchType",
    "category",
    "categoryVics",
    "series",
    "source",
    "matchedEntryIds",
)
DEFAULT_INCIDENT = "Child Pornography (possession, manufacture, and distribution)"


def build(
    scan_dir: Path,
    *,
    reporter_name: str,
    reporter_email: str,
    reporter_phone: str | None = None,
    organization: str | None = None,
    incident_type: str = DEFAULT_INCIDENT,
) -> dict[str, Any]:
    items_path, summary_path = scan_dir / "items.jsonl", scan_dir / "summary.json"
    if not items_path.exists() or not summary_path.exists():
        raise VigilError(f"{scan_dir} is not a finished scan (no items.jsonl and summary.json)")
    if "@" not in reporter_email:
        raise VigilError(f"reporter e-mail {reporter_email!r} is not an e-mail address")
    summary = json.loads(summary_path.read_text())
    try:
        matched = [item for item in read_items(scan_dir) if item.get("verdict") in ("known", "similar")]
    except ValueError as exc:  # a line that is not a JSON object
        raise VigilError(f"{scan_dir}: {exc}") from None
    files = [_file(item) for item in matched]
    urls = sorted({f["location"] for f in files if f["location"].startswith(("http://", "https://"))})
    return {
        "incidentSummary": {
            "incidentType": incident_type,
            "incidentDateTime": summary.get("started_at"),
            "reportCreated": datetime.now(UTC).isoformat(),
        },
        "reporter": {
            "reportingPerson": {"name": reporter_name, "email": reporter_email, "phone": reporter_phone},
            "organization": organization,
        },
        "internetDetails": [{"url": u} for u in urls],
        "fileDetails": files,
        "additionalInfo": {
            "tool": f"vigil {__version__}",
            "scanId": summary.get("scan_id"),
            "evidence": summary.get("evidence"),
            "counts": summary.get("verdicts"),
            "note": "Prepared by vigil; not submitted. Hashes and locations only; no content included.",
        },
    }


def _file(item: dict[str, Any]) -> dict[str, Any]:
    matches = item.get("matches") or []
    first = matches[0] if matches else {}
    category = first.get("category")
    location = str(item["path"])
    return {
        "fileName": locator.split(location)[-1].rsplit("/", 1)[-1],
        "location": location,
        "fileSize": item.get("size"),
        "mediaType": item.get("media_type"),
        "hashes": {h: item.get(h) for h in HASHES if item.get(h)},
        "deleted": bool(item.get("deleted")),
        "matchType": "exact" if item.get("verdict") == "known" else "perceptual",
        "category": category,
        "categoryVics": to_vics(category),  # None for none, and for a value outside the vocabulary
        "series": first.get("series"),
        "source": first.get("source"),
        "matchedEntryIds": sorted({m["entry_id"] for m in matches}),
    }


def write(report: dict[str, Any], out: Path) -> list[Path]:
    """report.json, files.csv and SHA256SUMS in `out` (created; refused if it already holds a report)."""
    out.mkdir(parents=True, exist_ok=True)
    if (out / "report.json").exists():
        raise VigilError(f"{out} already holds a hotline report; choose another --out")
    text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    table = io.StringIO()
    writer = csv.writer(table)  # RFC 4180: CRLF rows, so a CR inside a file name gets quoted too
    writer.writerow(CSV_COLUMNS)
    for f in report["fileDetails"]:
        row = {**f, **f["hashes"], "matchedEntryIds": " ".join(map(str, f["matchedEntryIds"]))}
        writer.writerow([safe_cell(row.get(c)) for c in CSV_COLUMNS])
    written = []
    for name, body in (("report.json", text), ("files.csv", table.getvalue())):
        write_text_atomic(out / name, body)
        written.append(out / name)
    sums = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in written)
    write_text_atomic(out / "SHA256SUMS", sums)
    return [*written, out / "SHA256SUMS"]
