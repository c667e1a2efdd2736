"""summary.json: what a court report needs, derived from the journal."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import vigil
from vigil.scan import journal
from vigil.store import Store, queries

VERDICTS = ("known", "similar", "known_good", "unknown", "error")


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
    verdicts: Counter[str] = Counter({v: 0 for v in VERDICTS})
    categories: Counter[str] = Counter()
    series: Counter[str] = Counter()
    items = files_read = bytes_read = errors = 0
    manifests: dict[str, list[str]] = {root: [] for root in evidence}
    per_root: dict[str, list[int]] = {root: [0, 0] for root in evidence}
    for rec in journal.read(items_path):
        items += 1
        verdicts[rec["verdict"]] += 1
        if rec.get("sha256") is not None:
            files_read += 1
            bytes_read += rec.get("size") or 0
        if rec["status"] == "error":
            errors += 1
        if rec["verdict"] in ("known", "similar") and rec["matches"]:
            best = rec["matches"][0]
            categories[best["category"] or "ungraded"] += 1
            if best.get("series"):
                series[best["series"]] += 1
        root = _root_of(rec["path"], evidence)
        if root is not None:
            per_root[root][0] += 1
            per_root[root][1] += rec.get("size") or 0
            manifests[root].append(f"{rec.get('sha256') or '-'}  {rec['path']}")
    duration = (finished - started).total_seconds()
    hash_s = max(timings.get("hash_s", duration), 1e-9)
    with store.session() as session:
        store_stats = queries.stats(session)
        fingerprint = queries.fingerprint(session)
    return {
        "vigil_version": vigil.__version__,
        "scan_id": None,
        "case": case,
        "evidence": [
            {
                "path": root,
                "type": "folder" if Path(root).is_dir() else "file",
                "files": per_root[root][0],
                "bytes": per_root[root][1],
                # A folder's hash is the SHA-256 of its sorted "sha256  path" manifest lines.
                "sha256": hashlib.sha256("\n".join(sorted(manifests[root])).encode()).hexdigest(),
            }
            for root in evidence
        ],
        "store": {
            "url": _redact(store.url),
            "fingerprint": fingerprint,
            "entries": store_stats["entries"],
            "signals": store_stats["signals"],
            "change_seq": store_stats["change_seq"],
        },
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "duration_s": round(duration, 3),
        "counts": {
            "items": items,
            "files_read": files_read,
            "bytes_read": bytes_read,
            "errors": errors,
            "skipped": len(skipped),
        },
        "verdicts": dict(verdicts),
        "categories": dict(sorted(categories.items())),
        "series": dict(sorted(series.items())),
        "skipped": skipped,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "throughput": {
            "files_per_s": round(files_read / hash_s, 1),
            "mb_per_s": round(bytes_read / hash_s / 1e6, 2),
        },
        "settings": settings,
    }


def _root_of(path: str, roots: list[str]) -> str | None:
    outer = path.split("!/", 1)[0]
    for root in roots:
        if outer == root or outer.startswith(root.rstrip("/") + "/"):
            return root
    return None


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
