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
from vigil.store.bulk import iter_active_entries
from vigil.store.models import Series, Source

CHUNK = 1 << 20  # entries turned into arrays at a time while reading the store


def exact_tables(
    batches: Iterable[list[tuple[str, int, bytes]]], sizes: dict[str, int]
) -> dict[str, ExactTable]:
    """One ExactTable per exact signal (name -> value size) from one pass over (type, id, value) rows."""
    parts: dict[str, list[list[tuple[int, bytes]]]] = {name: [] for name in sizes}
    for batch in batches:
        split: dict[str, list[tuple[int, bytes]]] = {name: [] for name in sizes}
        for kind, eid, value in batch:
            rows = split.get(kind)
            if rows is not None:
                rows.append((eid, value))
        for name, rows in split.items():
            parts[name].append(rows)
    return {name: ExactTable(sizes[name], parts[name]) for name in sizes}


class ExactTable:
    def __init__(self, size: int, batches: Iterable[list[tuple[int, bytes]]]) -> None:
        self.size = size
        id_parts: list[np.ndarray] = [np.zeros(0, np.int64)]
        value_parts: list[np.ndarray] = [np.zeros((0, size), np.uint8)]
        for batch in batches:
            rows = [(eid, value) for eid, value in batch if len(value) == size]
            id_parts.append(np.fromiter((eid for eid, _ in rows), np.int64, len(rows)))
            value_parts.append(np.frombuffer(b"".join(v for _, v in rows), np.uint8).reshape(-1, size))
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

    def get_many(self, values: list[bytes]) -> list[list[int]]:
        """`get` for many values in one vectorised pass (the matching API's batches)."""
        out: list[list[int]] = [[] for _ in values]
        usable = [i for i, v in enumerate(values) if len(v) == self.size]
        if not usable or not len(self.ids):
            return out
        table = np.frombuffer(b"".join(values[i] for i in usable), np.uint8).reshape(len(usable), self.size)
        keys = _keys(table)
        lo = np.searchsorted(self.keys, keys, side="left")
        hi = np.searchsorted(self.keys, keys, side="right")
        for j in np.flatnonzero(hi > lo):
            value = values[usable[j]]
            out[usable[j]] = [
                int(self.ids[k]) for k in range(int(lo[j]), int(hi[j])) if self.values[k].tobytes() == value
            ]
        return out


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
        id_parts: list[np.ndarray] = [np.zeros(0, np.int64)]
        code_parts: list[np.ndarray] = [np.zeros((0, 3), np.int32)]
        for rows in iter_active_entries(session.connection()):
            for _eid, cat, _ser, _src in rows:
                if cat not in category_code:
                    category_code[cat] = len(self.categories)
                    self.categories.append(cat)
            id_parts.append(np.fromiter((r[0] for r in rows), np.int64, len(rows)))
            codes = [
                (category_code[c], series_code.get(s or 0, 0), source_code.get(o or 0, 0))
                for _, c, s, o in rows
            ]
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

    def describe(self, ids: Iterable[int]) -> dict[int, tuple[str | None, str | None, str | None]]:
        """(category, series, source) of the active entries among `ids`, in one vectorised pass;
        ids of entries that are not active are left out."""
        wanted = np.fromiter(set(ids), np.int64)
        if not len(wanted) or not len(self.ids):
            return {}
        rows = np.minimum(np.searchsorted(self.ids, wanted), len(self.ids) - 1)
        hit = self.ids[rows] == wanted
        return {
            eid: (
                self.categories[int(self.category[row])],
                self.series_names[int(self.series[row])],
                self.source_names[int(self.source[row])],
            )
            for eid, row in zip(wanted[hit].tolist(), rows[hit].tolist(), strict=True)
        }

    def category_of(self, eid: int) -> str | None:
        i = self._row(eid)
        return self.categories[int(self.category[i])] if i >= 0 else None
