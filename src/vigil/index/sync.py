"""Keeps each perceptual signal's on-disk index in step with the store.

The store is the source of truth. An index holds, for one perceptual signal, every value of every active
entry (id = the entry's id, so a video's frame hashes all point at their video) and remembers the store's
change sequence number it reflects. Bringing it up to date replays the store's change log since then:
each changed entry's rows are removed and its current values (none, if it was retracted) added again, so
re-running a catch-up that was interrupted is harmless. `rebuild` writes the index afresh from the store;
`verify` checks the files and compares their content with the store row for row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil import signals
from vigil.core.records import AsDict
from vigil.index.mih import NBYTES, PDQIndex
from vigil.signals.base import Signal
from vigil.store.db import Store
from vigil.store.models import Change, Entry
from vigil.store.models import Signal as SignalRow

# A catch-up touching more entries than this (or a quarter of the index) rebuilds instead.
REBUILD_ENTRIES = 100_000
# Fold the log into a new segment once it holds this many added rows (or an eighth of the segment).
SAVE_ROWS = 200_000
_IN_CHUNK = 5_000


def indexed_signals() -> list[Signal]:
    """Perceptual signals: each has an index (pdq: one row per image; vpdq: one row per frame)."""
    return [s for s in signals.all_signals() if not s.exact]


@dataclass
class Rows:
    hashes: np.ndarray
    ids: np.ndarray
    quality: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def store_rows(session: Session, signal: str, entry_ids: Iterable[int] | None = None) -> Rows:
    """The values of `signal` the index should hold: those of active entries (or of these entries)."""
    base = (
        select(SignalRow.entry_id, SignalRow.value, SignalRow.quality)
        .join(Entry, Entry.id == SignalRow.entry_id)
        .where(SignalRow.type == signal, Entry.status == "active")
    )
    if entry_ids is None:
        batches: Iterator[list[int] | None] = iter([None])
    else:
        wanted = sorted(set(entry_ids))
        batches = (wanted[i : i + _IN_CHUNK] for i in range(0, len(wanted), _IN_CHUNK))
    sig = signals.get(signal)
    ids: list[np.ndarray] = []
    quality: list[np.ndarray] = []
    values: list[np.ndarray] = []
    for batch in batches:
        stmt = base if batch is None else base.where(SignalRow.entry_id.in_(batch))
        for eid, value, q in session.execute(stmt.execution_options(yield_per=50_000)):
            rows = sig.index_rows(bytes(value), q)
            if rows is None:
                continue
            values.append(rows[0])
            quality.append(rows[1])
            ids.append(np.full(len(rows[1]), int(eid), np.int64))
    if not ids:
        return Rows(np.zeros((0, NBYTES), np.uint8), np.zeros(0, np.int64), np.zeros(0, np.uint8))
    return Rows(np.concatenate(values), np.concatenate(ids), np.concatenate(quality))


def _store_seq(session: Session) -> int:
    return int(session.scalar(select(func.max(Change.seq))) or 0)


def _token(session: Session, seq: int) -> str:
    """What identifies change `seq` of this store: its entry and time ("" before the first change)."""
    if not seq:
        return ""
    row = session.execute(select(Change.entry_id, Change.created_at).where(Change.seq == seq)).first()
    return "" if row is None else f"{int(row[0])}@{row[1].isoformat()}"


@dataclass
class SyncReport(AsDict):
    """What bringing one signal's index up to date did (its JSON form: `vigil index sync --json`)."""

    signal: str
    rows: int
    store_seq: int
    entries_changed: int = 0
    rebuilt: bool = False
    saved: bool = False
    problems: list[str] = field(default_factory=list)


def rebuild_one(session: Session, index: PDQIndex, signal: str) -> SyncReport:
    seq = _store_seq(session)  # read first: rows committed meanwhile are re-applied by the next catch-up
    rows = store_rows(session, signal)
    index.replace(rows.hashes, rows.ids, rows.quality, store_seq=seq, store_token=_token(session, seq))
    return SyncReport(signal, len(rows), seq, rebuilt=True)


def catch_up(session: Session, index: PDQIndex, signal: str) -> SyncReport:
    """Apply the store's changes since the index's position; rebuild when that is cheaper."""
    since = index.store_seq
    token = _token(session, since)
    if token != index.store_token or (since and not token):
        # The store is not the one this index followed (recreated, restored from backup): start afresh.
        return rebuild_one(session, index, signal)
    seq = _store_seq(session)
    pending = select(Change.entry_id).where(Change.seq > since).distinct()
    count = int(session.scalar(select(func.count()).select_from(pending.subquery())) or 0)
    if not count:
        if seq != since:
            index.mark(seq, _token(session, seq))
        return SyncReport(signal, len(index), seq)
    if index.is_empty() or count > max(REBUILD_ENTRIES, len(index.segment) // 4):
        # Cheaper to read the signal's values once than to replay that many changes (an import of a
        # million MD5-only rows costs one empty query per perceptual signal here).
        report = rebuild_one(session, index, signal)
        report.entries_changed = count
        return report
    changed = [int(e) for (e,) in session.execute(pending)]
    rows = store_rows(session, signal, changed)
    index.remove(changed)
    index.add(rows.hashes, rows.ids, rows.quality)
    index.mark(seq, _token(session, seq))
    report = SyncReport(signal, 0, seq, entries_changed=len(changed))
    if len(index.delta) > max(SAVE_ROWS, len(index.segment) // 8):
        index.save()
        report.saved = True
    report.rows = len(index)
    return report


@contextmanager
def opened(store: Store, signal: str, *, create: bool = True) -> Iterator[PDQIndex]:
    index = PDQIndex.open(store.index_root / signal, create=create)
    try:
        yield index
    finally:
        index.close()


def sync(store: Store) -> list[SyncReport]:
    """Bring every perceptual index up to date with the store (creating missing ones)."""
    return _each(store, catch_up)


def rebuild(store: Store) -> list[SyncReport]:
    """Write every perceptual index afresh from the store."""
    return _each(store, rebuild_one)


def _each(store: Store, action: Callable[[Session, PDQIndex, str], SyncReport]) -> list[SyncReport]:
    reports = []
    with store.session() as session:
        for sig in indexed_signals():
            with opened(store, sig.name) as index:
                reports.append(action(session, index, sig.name))
    return reports


def verify(store: Store) -> list[SyncReport]:
    """Check each index's files and compare its rows with the store's; problems are listed per signal."""
    reports = []
    with store.session() as session:
        seq = _store_seq(session)
        for sig in indexed_signals():
            path = store.index_root / sig.name
            report = SyncReport(sig.name, 0, seq)
            reports.append(report)
            try:
                index = PDQIndex.open(path, create=False)
            except Exception as exc:  # a damaged index is a finding, not a crash
                report.problems.append(str(exc))
                continue
            with index:
                report.rows = len(index)
                report.problems += index.verify()
                if index.store_token != _token(session, index.store_seq):
                    report.problems.append("index was built from another store (run `vigil index rebuild`)")
                elif index.store_seq != seq:
                    report.problems.append(
                        f"index reflects store change {index.store_seq}, the store is at {seq} "
                        "(run `vigil index sync`)"
                    )
                report.problems += _compare(store_rows(session, sig.name), index.live_rows())
    return reports


def _compare(store: Rows, index: tuple[np.ndarray, np.ndarray, np.ndarray]) -> list[str]:
    def keyed(hashes: np.ndarray, ids: np.ndarray, quality: np.ndarray) -> np.ndarray:
        table = np.empty(len(ids), dtype=[("id", "<i8"), ("h", "V32"), ("q", "u1")])
        table["id"] = ids
        table["h"] = np.ascontiguousarray(hashes).view("V32").reshape(-1)
        table["q"] = quality
        return np.unique(table)  # sorted, and a row stored twice counts once

    want = keyed(store.hashes, store.ids, store.quality)
    have = keyed(*index)
    if np.array_equal(want, have):
        return []
    missing = np.setdiff1d(want, have)
    extra = np.setdiff1d(have, want)
    out = []
    if len(missing):
        out.append(f"{len(missing)} store values missing from the index (e.g. entry {int(missing['id'][0])})")
    if len(extra):
        out.append(f"{len(extra)} index rows not in the store (e.g. entry {int(extra['id'][0])})")
    return out
