"""`PDQIndex`: one index directory opened for searching and writing (design in the package docstring).

Opening maps the current segment and replays its log. Writes take the directory's writer lock (held until
`close`) and go to the log; `save` and `replace` switch to a new generation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from vigil.index.mih import log
from vigil.index.mih.log import MANIFEST, ChangeLog, Delta
from vigil.index.mih.search import search_segment
from vigil.index.mih.segment import (
    NBYTES,
    UNKNOWN_QUALITY,
    IndexError_,
    Segment,
    as_queries,
    build_segment,
)

Hit = tuple[int, int]


class PDQIndex:
    """Exact radius search over 256-bit hashes; see the `vigil.index.mih` docstring for the design."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_fd: int | None = None
        self._load()

    # ---- opening -----------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, create: bool = True) -> PDQIndex:
        """Open the index in `path` (a directory), creating an empty one there if `create`."""
        p = Path(path)
        if not (p / MANIFEST).exists():
            if not create:
                raise IndexError_(f"{p}: no index here (build it with `vigil index rebuild`)")
            p.mkdir(parents=True, exist_ok=True)
            with log.locked(p):
                if not (p / MANIFEST).exists():
                    log.write_manifest(p, {"generation": 0, "segment": None, "store_seq": 0})
        return cls(p)

    def _load(self) -> None:
        manifest = log.read_manifest(self.path)
        self.generation = int(manifest["generation"])
        segment = manifest.get("segment")
        self.segment = Segment.load(self.path / segment) if segment else Segment.empty()
        self.log = ChangeLog(
            self.path / log.log_name(self.generation),
            int(manifest.get("store_seq", 0)),
            str(manifest.get("store_token", "")),
        )
        self._added: tuple[int, Segment] | None = None
        self.log.replay()

    def refresh(self) -> None:
        """See what other processes have added, removed or saved since this one opened the index."""
        if log.current_generation(self.path) != self.generation:
            self._load()
        else:
            self.log.replay()

    # ---- the log's state ---------------------------------------------------------------------------

    @property
    def delta(self) -> Delta:
        """Rows added and ids removed since the segment."""
        return self.log.delta

    @property
    def store_seq(self) -> int:
        """The store change the index reflects."""
        return self.log.store_seq

    @property
    def store_token(self) -> str:
        """What identifies that change in its store ("" before the first change)."""
        return self.log.store_token

    @property
    def pending(self) -> int:
        """Log records not yet folded into the segment."""
        return self.log.records

    # ---- size --------------------------------------------------------------------------------------

    def __len__(self) -> int:
        """Live rows: segment rows whose id was not removed plus live added rows."""
        removed = self.delta.removed_ids()
        base = len(self.segment)
        if len(removed) and base:
            base -= int(np.isin(np.asarray(self.segment.ids, np.int64), removed).sum())
        return base + int(self.delta.live_mask().sum())

    def is_empty(self) -> bool:
        """True when nothing was ever stored (cheap, unlike len() after removals)."""
        return not len(self.segment) and not len(self.delta)

    # ---- writing -----------------------------------------------------------------------------------

    def add(self, hashes: np.ndarray, ids: np.ndarray, quality: np.ndarray | None = None) -> None:
        """Add rows (an id may own several hashes); visible to searches at once, durable on return."""
        h = as_queries(hashes) if len(hashes) else np.zeros((0, NBYTES), np.uint8)
        i = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        if len(i) != len(h):
            raise ValueError(f"{len(h)} hashes but {len(i)} ids")
        q = (
            np.full(len(h), UNKNOWN_QUALITY, np.uint8)
            if quality is None
            else np.ascontiguousarray(quality, dtype=np.uint8).reshape(-1)
        )
        if len(q) != len(h):
            raise ValueError(f"{len(h)} hashes but {len(q)} qualities")
        if len(h):
            self._append(log.add_record(h, i, q))

    def remove(self, ids: np.ndarray | list[int]) -> None:
        """Remove every row of these ids (rows added later under the same id stay)."""
        i = np.unique(np.asarray(ids, dtype=np.int64).reshape(-1))
        if len(i):
            self._append(log.remove_record(i))

    def mark(self, store_seq: int, token: str = "") -> None:
        """Record that the index now reflects the store up to change `store_seq`; `token` identifies that
        change (so an index facing a restored or recreated store notices it is not that store's)."""
        self._append(log.mark_record(store_seq, token))

    def _append(self, payload: bytes) -> None:
        self._acquire()
        self.log.append(payload)

    def _acquire(self) -> None:
        """Take the writer lock (held until close); open the log to append after its last good record."""
        if self._lock_fd is None:
            self._lock_fd = log.take_lock(self.path)
            self.refresh()
            log.clean(self.path, self.generation)
        self.log.open_for_append()

    def save(self) -> None:
        """Fold the log into a new segment (a no-op when the log is empty)."""
        self._acquire()
        self.refresh()
        if not self.pending:
            return
        hashes, ids, quality = self.live_rows()
        self.replace(hashes, ids, quality, store_seq=self.store_seq, store_token=self.store_token)

    def replace(
        self,
        hashes: np.ndarray,
        ids: np.ndarray,
        quality: np.ndarray | None = None,
        *,
        store_seq: int = 0,
        store_token: str = "",
    ) -> None:
        """Make these rows the whole content of the index, atomically (used by save and rebuild)."""
        self._acquire()
        h = as_queries(hashes) if len(hashes) else np.zeros((0, NBYTES), np.uint8)
        i = np.asarray(ids, dtype=np.int64).reshape(-1)
        q = (
            np.full(len(h), UNKNOWN_QUALITY, np.uint8)
            if quality is None
            else np.asarray(quality, dtype=np.uint8).reshape(-1)
        )
        if not len(h) == len(i) == len(q):
            raise ValueError("hashes, ids and quality differ in length")
        segment = build_segment(h, i, q) if len(h) else None
        log.write_generation(
            self.path, self.generation + 1, segment, store_seq=store_seq, store_token=store_token
        )
        self.log.close()
        self._load()
        log.clean(self.path, self.generation)

    def close(self) -> None:
        self.log.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> PDQIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- reading -----------------------------------------------------------------------------------

    def live_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """hashes, ids and quality of every live row (segment first, then added rows in order)."""
        seg = self.segment
        seg_ids = np.asarray(seg.ids, np.int64)
        keep = ~np.isin(seg_ids, self.delta.removed_ids()) if len(seg) else np.zeros(0, bool)
        dh, di, dq, _order = self.delta.arrays()
        live = self.delta.live_mask()
        return (
            np.concatenate([np.asarray(seg.hashes)[keep], dh[live]]),
            np.concatenate([seg_ids[keep], di[live]]),
            np.concatenate([np.asarray(seg.quality)[keep], dq[live]]),
        )

    def search(self, queries: np.ndarray, radius: int = 31, *, min_quality: int = 0) -> list[list[Hit]]:
        """For each query row, every (id, distance) within `radius` — an id once, at its nearest row —
        nearest first. Rows whose stored quality is known and below `min_quality` are left out."""
        q = as_queries(queries)
        if not 0 <= radius <= NBYTES * 8:
            raise ValueError(f"radius must be within 0..{NBYTES * 8}, got {radius}")
        best: list[dict[int, int]] = [{} for _ in range(len(q))]
        if len(self.segment):
            for qn, rows, dist in search_segment(self.segment, q, radius):
                self._collect(best, qn, self.segment.ids[rows].astype(np.int64), dist, rows, min_quality)
        added = self._added_segment()
        if len(added):
            for qn, rows, dist in search_segment(added, q, radius):
                keep = _quality_ok(added.quality[rows], min_quality)
                _merge(best, qn[keep], added.ids[rows[keep]].astype(np.int64), dist[keep])
        return [sorted(b.items(), key=lambda t: (t[1], t[0])) for b in best]

    def _added_segment(self) -> Segment:
        """The live added rows as an in-memory segment, rebuilt when the log has changed since."""
        if self._added is None or self._added[0] != self.delta.version:
            dh, di, dq, _order = self.delta.arrays()
            live = self.delta.live_mask()
            self._added = (self.delta.version, build_segment(dh[live], di[live], dq[live]))
        return self._added[1]

    def search_variants(self, variants: np.ndarray, radius: int = 31, *, min_quality: int = 0) -> list[Hit]:
        """One image's query values (e.g. its 8 rotations and flips) in one call: each id once, nearest."""
        merged: dict[int, int] = {}
        for hits in self.search(variants, radius, min_quality=min_quality):
            for i, d in hits:
                if d < merged.get(i, NBYTES * 8 + 1):
                    merged[i] = d
        return sorted(merged.items(), key=lambda t: (t[1], t[0]))

    def _collect(
        self,
        best: list[dict[int, int]],
        qn: np.ndarray,
        ids: np.ndarray,
        dist: np.ndarray,
        rows: np.ndarray,
        min_quality: int,
    ) -> None:
        keep = _quality_ok(np.asarray(self.segment.quality)[rows], min_quality)
        removed = self.delta.removed_ids()
        if len(removed):
            keep &= ~np.isin(ids, removed)
        _merge(best, qn[keep], ids[keep], dist[keep])

    # ---- checking ----------------------------------------------------------------------------------

    def verify(self) -> list[str]:
        """Structural checks of the segment; returns the problems found (empty when sound)."""
        return self.segment.verify()

    def stats(self) -> dict[str, Any]:
        files = [p for p in self.path.rglob("*") if p.is_file()]
        return {
            "path": str(self.path),
            "rows": len(self),
            "segment_rows": len(self.segment),
            "pending_records": self.pending,
            "removed_ids": len(self.delta.removed),
            "store_seq": self.store_seq,
            "generation": self.generation,
            "bytes_on_disk": sum(p.stat().st_size for p in files),
        }


def _quality_ok(quality: np.ndarray, min_quality: int) -> np.ndarray:
    # Unknown quality (255) always passes.
    return np.asarray(quality) >= min_quality


def _merge(best: list[dict[int, int]], qn: np.ndarray, ids: np.ndarray, dist: np.ndarray) -> None:
    for n, i, d in zip(qn.tolist(), ids.tolist(), dist.tolist(), strict=True):
        b = best[n]
        if d < b.get(i, NBYTES * 8 + 1):
            b[i] = d
