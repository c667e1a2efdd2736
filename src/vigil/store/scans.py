"""Scans in the store: a finished scan and its items, recorded in one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from vigil.core import names
from vigil.store.db import Store
from vigil.store.models import Case, Scan, ScanItem

BATCH = 1000


def record_scan(
    store: Store,
    evidence: Iterable[str],
    out: Path,
    items: Iterable[dict[str, Any]],
    summary: dict[str, Any],
    *,
    case: str | None = None,
) -> int:
    """Record a scan whose output is in `out`, with its `items` (``scan_item`` rows without the scan id),
    filed under `case` (created if new); returns the scan's id."""
    with store.transaction() as session:
        case_id = None
        if case:
            row = session.scalar(select(Case).where(Case.name == case))
            if row is None:
                row = Case(name=case)
                session.add(row)
                session.flush()
            case_id = row.id
        scan = Scan(
            case_id=case_id,
            evidence=list(evidence),
            out_dir=names.display(str(out)),
            started_at=datetime.fromisoformat(summary["started_at"]),
            finished_at=datetime.fromisoformat(summary["finished_at"]),
            summary=summary,
        )
        session.add(scan)
        session.flush()
        batch: list[dict[str, Any]] = []
        for item in items:
            batch.append({"scan_id": scan.id, **item})
            if len(batch) >= BATCH:
                session.execute(insert(ScanItem), batch)
                batch = []
        if batch:
            session.execute(insert(ScanItem), batch)
        return int(scan.id)
