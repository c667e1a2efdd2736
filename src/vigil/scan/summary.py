"""summary.json: what a court report needs, derived from the journal."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import vigil
from vigil.core import names
from vigil.core.records import ItemRecord
from vigil.scan import journal
from vigil.sources import locator
from vigil.store import Store, queries

VERDICTS = ("known", "similar", "known_good", "unknown", "error")


@dataclass(slots=True)
class Tally:
    """What the journal's records add up to."""

    evidence: list[str]
    items: int = 0
    files_read: int = 0
    bytes_read: int = 0
    errors: int = 0
    verdicts: Counter[str] = field(default_factory=lambda: Counter(dict.fromkeys(VERDICTS, 0)))
    categories: Counter[str] = field(default_factory=Counter)
    series: Counter[str] = field(default_factory=Counter)
    manifests: dict[str, list[bytes]] = field(init=False)
    per_root: dict[str, list[int]] = field(init=False)

    def __post_init__(self) -> None:
        self.manifests = {root: [] for root in self.evidence}
        self.per_root = {root: [0, 0] for root in self.evidence}

    def add(self, rec: ItemRecord) -> None:
        self.items += 1
        self.verdicts[rec.verdict] += 1
        if rec.hashes.get("sha256") is not None:
            self.files_read += 1
            self.bytes_read += rec.size or 0
        if rec.status == "error":
            self.errors += 1
        if rec.verdict in ("known", "similar") and rec.matches:
            best = rec.matches[0]
            self.categories[best["category"] or "ungraded"] += 1
            if best.get("series"):
                self.series[best["series"]] += 1
        root = _root_of(rec.path, self.evidence)
        if root is not None:
            self.per_root[root][0] += 1
            self.per_root[root][1] += rec.size or 0
            line = f"{rec.hashes.get('sha256') or '-'}  {rec.path}"
            self.manifests[root].append(names.raw_bytes(line))  # the name's own bytes, even if not UTF-8

    def evidence_rows(self) -> list[dict[str, Any]]:
        return [
            {
                **names.to_fields(root),
                "type": "folder" if Path(root).is_dir() else "file",
                "files": self.per_root[root][0],
                "bytes": self.per_root[root][1],
                # A folder's hash is the SHA-256 of its sorted "sha256  path" manifest lines.
                "sha256": hashlib.sha256(b"\n".join(sorted(self.manifests[root]))).hexdigest(),
            }
            for root in self.evidence
        ]


def build_summary(
    items_path: Path,
    *,
    evidence: list[str],
    skipped: list[dict[str, str]],
    started: datetime,
    finished: datetime,
    timings: dict[str, float],
    settings: dict[str, Any],
    store: Store,
    case: str | None,
) -> dict[str, Any]:
    tally = Tally(evidence)
    for rec in journal.read(items_path):
        tally.add(rec)
    duration = (finished - started).total_seconds()
    hash_s = max(timings.get("hash_s", duration), 1e-9)
    return {
        "vigil_version": vigil.__version__,
        "scan_id": None,
        "case": case,
        "evidence": tally.evidence_rows(),
        "store": store_facts(store),
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "duration_s": round(duration, 3),
        "counts": {
            "items": tally.items,
            "files_read": tally.files_read,
            "bytes_read": tally.bytes_read,
            "errors": tally.errors,
            "skipped": len(skipped),
        },
        "verdicts": dict(tally.verdicts),
        "categories": dict(sorted(tally.categories.items())),
        "series": dict(sorted(tally.series.items())),
        "skipped": skipped,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "throughput": {
            "files_per_s": round(tally.files_read / hash_s, 1),
            "mb_per_s": round(tally.bytes_read / hash_s / 1e6, 2),
        },
        "settings": settings,
    }


def store_facts(store: Store) -> dict[str, Any]:
    """Which store the scan matched against, and how it stood (a court asks what was known then)."""
    with store.session() as session:
        stats = queries.stats(session)
        fingerprint = queries.fingerprint(session)
    return {
        "url": _redact(store.url),
        "fingerprint": fingerprint,
        "entries": stats["entries"],
        "signals": stats["signals"],
        "change_seq": stats["change_seq"],
    }


def _root_of(path: str, roots: list[str]) -> str | None:
    outer = locator.split(path)[0]
    for root in roots:
        if outer == root or outer.startswith(root.rstrip("/") + "/"):
            return root
    return None


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
