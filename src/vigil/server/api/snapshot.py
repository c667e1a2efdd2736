"""The matcher the API answers from: a snapshot of the store, reloaded when the store changes.

The snapshot is a `vigil.match.Matcher` plus every active entry's last-confirmed time (entry.updated_at),
which lookups report. When the store's change sequence moves (checked at most every `REFRESH_S` seconds), a
new matcher is built in a background thread while the old one keeps answering, then swapped in. The entry
times are read in the background too; `times_read` says when the first snapshot's are in (``/ready``).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from vigil.core.clock import as_utc
from vigil.match import Described, Found, Matcher
from vigil.store import Store
from vigil.store.models import Change, Entry

REFRESH_S = 5.0
log = logging.getLogger(__name__)


class Snapshot:
    """The matcher over the store. When the store's change sequence moves (checked at most every
    `REFRESH_S` s), a new matcher is built in the background while the old one keeps answering, then
    swapped in: a reload never stalls lookups (at 1 M entries it takes seconds)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = threading.Lock()
        self.matcher: Matcher | None = None
        self.seq = -1
        self.checked = 0.0
        self.reloading = False
        self._confirmed: dict[int, str] = {}  # entry id -> updated_at, valid for this snapshot
        self._times: tuple[np.ndarray, np.ndarray] | None = None  # all active entries' ids and times
        self._generation = 0
        self._first = threading.Lock()
        self.times_read = threading.Event()  # the first snapshot's entry times are in (or failed)

    def _store_seq(self) -> int:
        with self.store.session() as session:
            return int(session.scalar(select(func.max(Change.seq))) or 0)

    def _load(self, seq: int) -> None:
        matcher = Matcher.from_store(self.store)
        with self.lock:
            self.matcher, self.seq, self._confirmed, self._times = matcher, seq, {}, None
            self._generation += 1
            generation = self._generation
        threading.Thread(target=self._load_times, args=(generation,), name="vigil-times", daemon=True).start()

    def _reload(self, seq: int) -> None:
        try:
            self._load(seq)
        except Exception:  # the old snapshot keeps answering; the next check tries again
            log.exception("reloading the store snapshot failed")
        finally:
            self.reloading = False

    def current(self) -> Matcher:
        if self.matcher is None:  # the first load is waited for (`/ready` says when it is done)
            with self._first:
                if self.matcher is None:
                    self._load(self._store_seq())
                    self.checked = time.monotonic()
            assert self.matcher is not None
            return self.matcher
        now = time.monotonic()
        if now - self.checked >= REFRESH_S and not self.reloading:
            with self.lock:
                due = now - self.checked >= REFRESH_S and not self.reloading
                if due:
                    self.checked = now
                    self.reloading = True
            if due:
                seq = self._store_seq()
                if seq != self.seq:
                    threading.Thread(
                        target=self._reload, args=(seq,), name="vigil-snapshot", daemon=True
                    ).start()
                else:
                    self.reloading = False
        return self.matcher

    def check_due(self) -> bool:
        """True when `current()` would ask the store (callers on the event loop do that in a thread)."""
        return self.matcher is None or time.monotonic() - self.checked >= REFRESH_S

    def lookup_many(self, parsed: Sequence[tuple[str, bytes]]) -> tuple[Found, Described]:
        """`Matcher.lookup_many` on the current snapshot."""
        return self.current().lookup_many(parsed)

    def confirmed(self, ids: set[int]) -> dict[int, str]:
        """When each entry was last graded or confirmed (entry.updated_at). An entry's time changes only
        with a store change, which reloads the snapshot: the times are read for all entries once per
        snapshot, in the background; until they are in, the ones asked for are read from the store."""
        times = self._times
        if times is not None:
            wanted = np.fromiter(ids, np.int64, len(ids))
            if not len(wanted) or not len(times[0]):
                return {}
            rows = np.minimum(np.searchsorted(times[0], wanted), len(times[0]) - 1)
            hit = times[0][rows] == wanted
            return {
                eid: datetime.fromtimestamp(ts, UTC).isoformat()
                for eid, ts in zip(wanted[hit].tolist(), times[1][rows[hit]].tolist(), strict=True)
            }
        known = self._confirmed
        missing = sorted(i for i in ids if i not in known)
        if missing:
            with self.store.session() as session:
                for chunk in range(0, len(missing), 5000):
                    rows_ = session.execute(
                        select(Entry.id, Entry.updated_at).where(Entry.id.in_(missing[chunk : chunk + 5000]))
                    )
                    known.update((int(i), as_utc(t).isoformat()) for i, t in rows_)
        return {i: known[i] for i in ids if i in known}

    def _load_times(self, generation: int) -> None:
        times: tuple[np.ndarray, np.ndarray] | None = None
        try:
            with self.store.session() as session:
                times = entry_times(session)
        except Exception:  # the per-request reads go on
            log.exception("reading entry times failed")
        with self.lock:
            if times is not None and generation == self._generation:
                self._times = times
        if not self.times_read.is_set():  # the first snapshot is complete
            _freeze_startup_objects()
            self.times_read.set()


def _freeze_startup_objects() -> None:
    """Once the first snapshot is in: collect, then move every object alive so far (modules, the app,
    the snapshot) out of the cyclic collector's reach (`gc.freeze`). Otherwise each full collection walks
    them all while the event loop waits, a stall of tens of milliseconds every so often under load."""
    gc.collect()
    gc.freeze()


_SQLITE_STAMP = 26  # how SQLAlchemy stores a DateTime in SQLite: "YYYY-MM-DD HH:MM:SS.ffffff" (UTC)


def entry_times(session: Session) -> tuple[np.ndarray, np.ndarray]:
    """Every active entry's id (sorted) and updated_at as seconds since the epoch. On SQLite the stored
    text is parsed by numpy (a Python datetime a row took 9 s at 1 M entries, 2.6 s this way, all the while
    holding the GIL the event loop needs); anything else goes through SQLAlchemy's types."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        fast = _sqlite_entry_times(conn)
        if fast is not None:
            return fast
    ids: list[int] = []
    stamps: list[float] = []
    query = select(Entry.id, Entry.updated_at).where(Entry.status == "active").order_by(Entry.id)
    for eid, at in session.execute(query.execution_options(yield_per=50_000)):
        ids.append(eid)
        stamps.append(as_utc(at).timestamp())
    return np.asarray(ids, np.int64), np.asarray(stamps, np.float64)


def _sqlite_entry_times(conn: Connection) -> tuple[np.ndarray, np.ndarray] | None:
    """`entry_times` from SQLite's stored text, 100,000 rows at a time; None if a value is not in the
    format SQLAlchemy writes."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cur = dbapi.cursor()
    id_parts, micro_parts = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    try:
        cur.execute("SELECT id, updated_at FROM entry WHERE status = 'active' ORDER BY id")
        while rows := cur.fetchmany(100_000):
            stored = [r[1] for r in rows]
            if not all(isinstance(t, str) for t in stored):
                return None
            text = np.array(stored)  # as wide as the longest value: a longer one fails the check below
            if not bool(np.all(np.char.str_len(text) == _SQLITE_STAMP)):
                return None
            id_parts.append(np.fromiter((r[0] for r in rows), np.int64, len(rows)))
            micro_parts.append(text.astype("datetime64[us]").astype(np.int64))
    finally:
        cur.close()
    return np.concatenate(id_parts), np.concatenate(micro_parts) / 1e6
