"""Compact, fork-friendly lookup tables for a scan's snapshot of the store.

A national store holds millions of entries and tens of millions of exact hashes (NSRL alone has tens of
millions of known-good ones). Python dicts would cost ~300 bytes a hash and be copied page by page into
every worker as reference counts change; these tables are a few numpy arrays (no per-item objects), so
worker processes share them with the parent for as long as the scan runs:

- `ExactTable`: per signal, the values sorted by their first 8 bytes, with the owning entry ids:
  size + 16 bytes a hash, looked up by binary search;
- `EntryTable`: entry ids sorted, with small integer codes for category, series and source.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.store import queries
from vigil.store.models import Entry, Series, Source

CHUNK = 1 << 20  # rows turned into arrays at a time while reading the store


class ExactTable:
    def __init__(self, size: int, rows: Iterable[tuple[int, bytes]]) -> None:
        self.size = size
        id_parts: list[np.ndarray] = [np.zeros(0, np.int64)]
        value_parts: list[np.ndarray] = [np.zeros((0, size), np.uint8)]
        ids: list[int] = []
        values = bytearray()

        def flush() -> None:
            id_parts.append(np.asarray(ids, np.int64))
            value_parts.append(np.frombuffer(bytes(values), np.uint8).reshape(-1, size))
            ids.clear()
            values.clear()

        for eid, value in rows:
            if len(value) == size:
                ids.append(eid)
                values += value
                if len(ids) >= CHUNK:
                    flush()
        flush()
        table = np.concatenate(value_parts)
        keys = _keys(table)
        order = np.argsort(keys, kind="stable")
        self.values = np.ascontiguousarray(table[order])
        self.keys = keys[order]
        self.ids = np.concatenate(id_parts)[order]

    def __len__(self) -> int:
        return len(self.ids)

    def get(self, value: bytes) -> list[int]:
        """The entry ids owning this value (usually one; empty when unknown)."""
        if len(value) != self.size or not len(self.ids):
            return []
        key = _keys(np.frombuffer(value, np.uint8).reshape(1, -1))[0]
        lo = int(np.searchsorted(self.keys, key, side="left"))
        hi = int(np.searchsorted(self.keys, key, side="right"))
        return [int(self.ids[i]) for i in range(lo, hi) if self.values[i].tobytes() == value]


def _keys(table: np.ndarray) -> np.ndarray:
    """The first 8 bytes of each value as a big-endian uint64 (so key order is byte order)."""
    head = np.zeros((len(table), 8), np.uint8)
    width = min(8, table.shape[1]) if table.ndim == 2 else 0
    head[:, :width] = table[:, :width]
    return head.view(">u8").reshape(-1).astype(np.uint64)


class EntryTable:
    """Active entries: id -> (category, series, source), without a Python object per entry."""

    def __init__(self, session: Session) -> None:
        series = {int(i): n for i, n in session.execute(select(Series.id, Series.name))}
        sources = {int(i): n for i, n in session.execute(select(Source.id, Source.name))}
        self.categories: list[str | None] = [None]
        self.series_names: list[str | None] = [None, *series.values()]
        self.source_names: list[str | None] = [None, *sources.values()]
        series_code = {sid: n + 1 for n, sid in enumerate(series)}
        source_code = {sid: n + 1 for n, sid in enumerate(sources)}
        category_code: dict[str | None, int] = {None: 0}
        ids: list[int] = []
        codes: list[tuple[int, int, int]] = []
        id_parts: list[np.ndarray] = [np.zeros(0, np.int64)]
        code_parts: list[np.ndarray] = [np.zeros((0, 3), np.int32)]
        stmt = select(Entry.id, Entry.category, Entry.series_id, Entry.source_id).where(
            Entry.status == "active"
        )
        for eid, cat, ser, src in session.execute(stmt.execution_options(yield_per=50_000)):
            if cat not in category_code:
                category_code[cat] = len(self.categories)
                self.categories.append(cat)
            ids.append(int(eid))
            codes.append((category_code[cat], series_code.get(ser or 0, 0), source_code.get(src or 0, 0)))
            if len(ids) >= CHUNK:
                id_parts.append(np.asarray(ids, np.int64))
                code_parts.append(np.asarray(codes, np.int32).reshape(-1, 3))
                ids.clear()
                codes.clear()
        id_parts.append(np.asarray(ids, np.int64))
        code_parts.append(np.asarray(codes, np.int32).reshape(-1, 3))
        all_ids = np.concatenate(id_parts)
        order = np.argsort(all_ids, kind="stable")
        self.ids = all_ids[order]
        table = np.concatenate(code_parts)[order]
        self.category = table[:, 0].astype(np.int16)
        self.series = table[:, 1]
        self.source = table[:, 2]

    def __len__(self) -> int:
        return len(self.ids)

    def _row(self, eid: int) -> int:
        i = int(np.searchsorted(self.ids, eid))
        return i if i < len(self.ids) and int(self.ids[i]) == eid else -1

    def __contains__(self, eid: object) -> bool:
        return isinstance(eid, int | np.integer) and self._row(int(eid)) >= 0

    def __getitem__(self, eid: int) -> queries.EntryInfo:
        i = self._row(eid)
        if i < 0:
            raise KeyError(eid)
        return queries.EntryInfo(
            eid,
            self.categories[int(self.category[i])],
            self.series_names[int(self.series[i])],
            self.source_names[int(self.source[i])],
            "active",
        )

    def category_of(self, eid: int) -> str | None:
        i = self._row(eid)
        return self.categories[int(self.category[i])] if i >= 0 else None
