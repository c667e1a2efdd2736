"""Put scans and platform submissions in front of the reviewers.

- ``attach_folder(store, folder, user=..., case=None)`` — attach a finished ``vigil scan --out`` folder.
  A scan recorded in this store already (same folder, or the ``scan_id`` of its summary.json with the same
  start time) is reused; otherwise its ``items.jsonl`` and ``summary.json`` are recorded as
  ``vigil scan`` records them (`vigil.scan.runner`). Then its similar and unknown items are linked to
  review items and grouped. Attaching twice changes nothing. A folder that is not a finished vigil scan
  output is refused with a `ReviewError` saying why.
- ``attach_scan(store, scan_id, user=...)`` — attach a scan this store has recorded, by id (no folder).
- ``scan_and_attach(store, evidence, out, user=..., case=None)`` — run a scan (blocking: call it from a
  worker thread or process) with the deployment's settings, then attach it. It writes the scan's
  items.jsonl and summary.json; the reports a person reads (`vigil.report.write_reports`) are left to the
  caller, as the review app's own scans run `vigil scan`, which writes them.
- ``attach_submissions(store, user=None)`` — link pending platform submissions (cheap when none are new);
  run it before listing the submissions queue.

Each returns an `Attached` summary and appends a ``review.attach`` event to the audit chain when a user
is given. Each owns its transactions (unlike the session-level functions in `vigil.review.items`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from vigil.config import Settings
from vigil.core.records import AsDict
from vigil.review.base import ReviewError, actor
from vigil.review.items import LinkStats, link_scan, link_submissions
from vigil.store import Store, audit
from vigil.store.db import write_lock
from vigil.store.models import Case, Scan, User
from vigil.store.scans import record_scan

REQUIRED_SUMMARY = ("vigil_version", "started_at", "finished_at", "evidence", "verdicts")
REQUIRED_ITEM = ("path", "status", "verdict")


@dataclass(frozen=True, slots=True)
class Attached(AsDict):
    scan_id: int | None  # None for submissions
    recorded: bool  # the scan was recorded in the store now (False: it was there already)
    sightings: int  # scan items (or submissions) newly linked to review items
    items_created: int  # new review items
    groups: int  # near-duplicate groups of two or more items in the scan (or the submissions)


def read_scan_folder(folder: Path) -> dict[str, Any]:
    """The summary of a finished vigil scan output folder, after checking the folder is one (every line
    of items.jsonl is read); raises ReviewError naming what is wrong."""
    if not folder.is_dir():
        raise ReviewError(f"{folder} is not a folder")
    items, summary_path = folder / "items.jsonl", folder / "summary.json"
    if not items.is_file():
        raise ReviewError(f"{folder} is not a vigil scan output: it has no items.jsonl")
    if not summary_path.is_file():
        raise ReviewError(
            f"{folder} is not a finished vigil scan output: it has no summary.json (finish it with "
            "`vigil scan --resume`)"
        )
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ReviewError(f"{summary_path}: not a vigil scan summary ({exc})") from None
    missing = [k for k in REQUIRED_SUMMARY if not isinstance(summary, dict) or k not in summary]
    if missing:
        raise ReviewError(f"{summary_path}: not a vigil scan summary (no {', '.join(missing)})")
    try:
        datetime.fromisoformat(summary["started_at"])
        datetime.fromisoformat(summary["finished_at"])
    except (TypeError, ValueError):
        raise ReviewError(f"{summary_path}: not a vigil scan summary (bad start or end time)") from None
    try:
        with open(items, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                record = json.loads(line)
                if not isinstance(record, dict) or any(k not in record for k in REQUIRED_ITEM):
                    raise ReviewError(
                        f"{items}:{n}: not a vigil scan item (needs {', '.join(REQUIRED_ITEM)})"
                    )
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ReviewError(f"{items}: not a vigil scan journal ({exc})") from None
    return dict(summary)


def attach_folder(
    store: Store,
    folder: Path,
    *,
    user: User | None = None,
    case: str | None = None,
    settings: Settings | None = None,
) -> Attached:
    """Attach a finished `vigil scan --out` folder (idempotent); see the module docstring."""
    from vigil.scan import journal
    from vigil.scan.runner import scan_item_row

    settings = settings or store.settings
    out = folder.expanduser().resolve()
    summary = read_scan_folder(out)
    scan_id = _find_scan(store, out, summary)
    recorded = scan_id is None
    if scan_id is None:
        evidence = [e["path"] if isinstance(e, dict) else str(e) for e in summary["evidence"]]
        rows = (scan_item_row(record) for record in journal.read(out / "items.jsonl"))
        scan_id = record_scan(store, evidence, out, rows, summary, case=case or summary.get("case"))
    elif case is not None:
        _set_case(store, scan_id, case)
    return _link(store, scan_id, recorded, user, settings, {"folder": str(out)})


def attach_scan(
    store: Store, scan_id: int, *, user: User | None = None, settings: Settings | None = None
) -> Attached:
    """Attach a scan already recorded in this store by its id (its folder is not needed); idempotent."""
    with store.session() as session:
        if session.get(Scan, scan_id) is None:
            raise ReviewError(f"no scan {scan_id} in this store")
    return _link(store, scan_id, False, user, settings or store.settings, {"scan_id": scan_id})


def scan_and_attach(
    store: Store,
    evidence: list[str],
    out: Path,
    *,
    user: User | None = None,
    case: str | None = None,
    settings: Settings | None = None,
    workers: int | None = None,
) -> Attached:
    """Run `vigil scan EVIDENCE --out OUT` with the deployment's settings, then attach the scan."""
    from vigil.scan.runner import ScanOptions, run_scan

    s = settings or store.settings
    chosen: dict[str, Any] = {"workers": workers} if workers is not None else {}
    options = ScanOptions.from_settings(s, list(evidence), out, case=case, progress=False, **chosen)
    summary = run_scan(store, options)
    return _link(
        store, int(summary["scan_id"]), True, user, s, {"folder": str(out.resolve()), "started": True}
    )


def attach_submissions(
    store: Store, *, user: User | None = None, settings: Settings | None = None
) -> Attached:
    """Link pending platform submissions to review items (nothing is written when none are new)."""
    settings = settings or store.settings
    with store.transaction() as session:
        if user is not None:
            # Audit first (the chain's lock; on SQLite the write lock), then link.
            audit.append(session, audit.Event(actor(user), "review.attach", "submissions", None))
        else:
            write_lock(session)
        stats: LinkStats = link_submissions(session, settings)
    return Attached(None, False, stats.sightings, stats.items_created, stats.groups)


def _link(
    store: Store, scan_id: int, recorded: bool, user: User | None, settings: Settings, details: dict[str, Any]
) -> Attached:
    with store.transaction() as session:
        if user is not None:
            audit.append(session, audit.Event(actor(user), "review.attach", f"scan:{scan_id}", details))
        else:
            write_lock(session)
        stats = link_scan(session, scan_id, settings)
    return Attached(scan_id, recorded, stats.sightings, stats.items_created, stats.groups)


def _find_scan(store: Store, out: Path, summary: dict[str, Any]) -> int | None:
    """The store's record of this scan: the same folder, or the summary's scan id with the same start."""
    with store.session() as session:
        found = session.scalar(select(Scan.id).where(Scan.out_dir == str(out)).order_by(Scan.id).limit(1))
        if found is not None:
            return int(found)
        sid = summary.get("scan_id")
        if isinstance(sid, int):
            scan = session.get(Scan, sid)
            if scan is not None and scan.summary and scan.summary.get("started_at") == summary["started_at"]:
                return int(scan.id)
    return None


def _set_case(store: Store, scan_id: int, name: str) -> None:
    """Put an attached scan in a case (created if new), unless it is in one already."""
    with store.transaction() as session:
        scan = session.get(Scan, scan_id)
        if scan is None or scan.case_id is not None:
            return
        case = session.scalar(select(Case).where(Case.name == name))
        if case is None:
            case = Case(name=name)
            session.add(case)
            session.flush()
        scan.case_id = case.id
