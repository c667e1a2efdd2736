"""A memory-mapped, exact, incremental multi-index hash (MIH) for 256-bit perceptual hashes.

Layout (one directory per index)::

    MANIFEST.json          which segment and log are current, the store position they reflect
    seg-000007/            the base segment: immutable .npy arrays, memory-mapped read-only
        hashes.npy         uint8[n, 32], rows sorted by their first 16-bit chunk
        ids.npy            uint32[n] (or int64[n] when an id does not fit)
        quality.npy        uint8[n] (255 = unknown)
        offsets.npy        uint32[16, 65537]: rows whose chunk j has value v are
                           offsets[j, v] .. offsets[j, v+1] in chunk j's order
        perm.npy           uint32[15, n]: chunk j's order (j = 1..15) as row numbers
    log-000007             append-only log of adds, removes and store marks since the segment

A hash is cut into 16 chunks of 16 bits. If two hashes differ in at most r bits, then (pigeonhole, in the
tighter form of Norouzi et al., "Fast search in Hamming space with multi-index hashing", 2012) with
r = 16·q + a, one of the first a+1 chunks differs in at most q bits or one of the others in at most q-1.
A query therefore looks up, per chunk, every 16-bit value within that many bits of its own chunk
(17 values per chunk at r = 31), gathers the rows filed under them and keeps those whose full distance is
within r: every hash within the radius is found, none is approximate.

The segment costs 32 + 4 + 1 + 15·4 = 97 bytes per hash plus 4 MB of offsets. Opening maps the files and
replays the log, so it takes milliseconds and almost no memory; processes that open the same index share
the page cache. Adds and removes go to the log (one checksummed record per call, fsynced) and are visible
at once: added rows are searched by brute force until `save()` folds them into a new segment, removed ids
are filtered out. A record torn by a crash is ignored when the index is next opened, so an add is either
wholly there or not at all; a crash during `save()` leaves the previous segment and log in force.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import shutil
import struct
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vigil.core.errors import VigilError

NBYTES = 32
CHUNKS = NBYTES // 2
KEYS = 1 << 16
UNKNOWN_QUALITY = 255
FORMAT_VERSION = 1
MANIFEST = "MANIFEST.json"
_REC = struct.Struct("<II")  # payload length, crc32(payload)
_POP16 = np.bitwise_count(np.arange(KEYS, dtype=np.uint16)).astype(np.int8)
# Past this share of the stored rows as candidates, scanning every row is cheaper than the chunk tables.
_BRUTE_SHARE = 0.25
# Below this many rows, scanning them all is cheaper than any table look-up.
_BRUTE_ROWS = 2048
# Fewer queries than this a thread are searched in one call (splitting costs more than it gains).
_BLOCK_QUERIES = 32
_THREADS = max(1, min(8, len(os.sched_getaffinity(0))))

Hit = tuple[int, int]
_Found = tuple[np.ndarray, np.ndarray, np.ndarray]  # query numbers, rows, distances
_NOTHING: _Found = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))


class IndexError_(VigilError):
    """The index on disk is missing, damaged or of another format."""


def _masks(bits: int) -> np.ndarray:
    return np.flatnonzero(bits >= _POP16).astype(np.uint16)


_MASKS = [_masks(b) for b in range(17)]


def probe_plan(radius: int, chunks: int = CHUNKS) -> list[tuple[int, int]]:
    """(chunk, bits) pairs to probe so that every hash within `radius` is a candidate."""
    q, a = divmod(radius, chunks)
    plan = []
    for j in range(chunks):
        bits = q if j <= a else q - 1
        if bits >= 0:
            plan.append((j, min(bits, 16)))
    return plan


def _as_queries(queries: np.ndarray) -> np.ndarray:
    q = np.ascontiguousarray(queries, dtype=np.uint8)
    if q.ndim == 1:
        q = q.reshape(1, -1)
    if q.ndim != 2 or q.shape[1] != NBYTES:
        raise ValueError(f"queries must be uint8[m, {NBYTES}], got shape {np.shape(queries)}")
    return q


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _save_array(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as fh:
        np.save(fh, array, allow_pickle=False)
        fh.flush()
        os.fsync(fh.fileno())


def _load_array(path: Path) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise IndexError_(f"{path}: cannot read index file: {exc}") from exc


@dataclass
class _Segment:
    """The immutable base: rows sorted by chunk 0, plus the order of every other chunk."""

    hashes: np.ndarray  # uint8[n, 32]
    ids: np.ndarray
    quality: np.ndarray
    offsets: np.ndarray  # [16, 65537]
    perm: np.ndarray  # [15, n]

    @classmethod
    def load(cls, directory: Path) -> _Segment:
        seg = cls(*(_load_array(directory / f"{name}.npy") for name in _SEGMENT_FILES))
        n = len(seg.hashes)
        if (
            seg.hashes.shape != (n, NBYTES)
            or seg.ids.shape != (n,)
            or seg.quality.shape != (n,)
            or seg.offsets.shape != (CHUNKS, KEYS + 1)
            or seg.perm.shape != (CHUNKS - 1, n)
        ):
            raise IndexError_(f"{directory}: index arrays have inconsistent shapes")
        return seg

    @classmethod
    def empty(cls) -> _Segment:
        return cls(
            np.zeros((0, NBYTES), np.uint8),
            np.zeros(0, np.uint32),
            np.zeros(0, np.uint8),
            np.zeros((CHUNKS, KEYS + 1), np.uint32),
            np.zeros((CHUNKS - 1, 0), np.uint32),
        )

    def __len__(self) -> int:
        return len(self.hashes)

    @property
    def words(self) -> np.ndarray:
        return self.hashes.view(np.uint64)

    def expected_candidates(self, plan: list[tuple[int, int]]) -> float:
        return sum(len(_MASKS[bits]) for _, bits in plan) * len(self) / KEYS

    def search(self, q: np.ndarray, radius: int, plan: list[tuple[int, int]]) -> _Found:
        """(query number, row, distance) of every row within `radius`, each once: the probes of `plan`
        walked by the compiled loop of vigil.index.kernel (imported here: numba is only loaded when a
        segment is searched)."""
        from vigil.index import kernel

        return kernel.probe(self.hashes, self.offsets, self.perm, q, radius, _kernel_plan(tuple(plan)))


@functools.lru_cache(maxsize=64)
def _kernel_plan(plan: tuple[tuple[int, int], ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A probe plan as the kernel takes it: each entry's chunk and bits, where its masks start, the masks."""
    sizes = [len(_MASKS[bits]) for _, bits in plan]
    return (
        np.array([j for j, _ in plan], np.int64),
        np.array([bits for _, bits in plan], np.int64),
        np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64),
        np.concatenate([_MASKS[bits] for _, bits in plan]).astype(np.uint16),
    )


def _build_segment(hashes: np.ndarray, ids: np.ndarray, quality: np.ndarray) -> _Segment:
    """The segment arrays for these rows, in memory: rows sorted by chunk 0, every other chunk's order."""
    n = len(hashes)
    order = np.argsort(hashes.view("<u2")[:, 0], kind="stable")
    hashes = np.ascontiguousarray(hashes[order])
    ids = np.asarray(ids)[order]
    id_dtype = np.uint32 if n == 0 or (ids.min() >= 0 and ids.max() < 1 << 32) else np.int64
    pos_dtype = np.uint32 if n < 1 << 32 else np.uint64
    keys = hashes.view("<u2")
    offsets = np.zeros((CHUNKS, KEYS + 1), pos_dtype)
    perm = np.empty((CHUNKS - 1, n), pos_dtype)
    for j in range(CHUNKS):
        column = np.ascontiguousarray(keys[:, j])
        np.cumsum(np.bincount(column, minlength=KEYS), out=offsets[j, 1:])
        if j:
            perm[j - 1] = np.argsort(column, kind="stable")
    quality = np.ascontiguousarray(np.asarray(quality)[order], dtype=np.uint8)
    return _Segment(hashes, ids.astype(id_dtype), quality, offsets, perm)


def _write_segment(directory: Path, segment: _Segment) -> None:
    directory.mkdir(parents=True)
    for name in _SEGMENT_FILES:
        _save_array(directory / f"{name}.npy", getattr(segment, name))
    _fsync_dir(directory)


_SEGMENT_FILES = ("hashes", "ids", "quality", "offsets", "perm")


class _Delta:
    """Rows added since the segment (searched by brute force) and the ids removed, each with its log order."""

    def __init__(self) -> None:
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]] = []
        self._cache: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self.removed: dict[int, int] = {}  # id -> log order of its latest removal
        self._removed_array: np.ndarray | None = None
        self.version = 0  # changes with every add or remove

    def add(self, hashes: np.ndarray, ids: np.ndarray, quality: np.ndarray, order: int) -> None:
        self._parts.append((hashes, ids, quality, order))
        self._cache = None
        self.version += 1

    def remove(self, ids: np.ndarray, order: int) -> None:
        for i in ids.tolist():
            self.removed[i] = order
        self._removed_array = None
        self.version += 1

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """hashes, ids, quality and log order of every added row (live or not)."""
        if self._cache is None:
            if self._parts:
                self._cache = (
                    np.concatenate([p[0] for p in self._parts]),
                    np.concatenate([p[1] for p in self._parts]),
                    np.concatenate([p[2] for p in self._parts]),
                    np.concatenate([np.full(len(p[1]), p[3], np.int64) for p in self._parts]),
                )
            else:
                self._cache = (
                    np.zeros((0, NBYTES), np.uint8),
                    np.zeros(0, np.int64),
                    np.zeros(0, np.uint8),
                    np.zeros(0, np.int64),
                )
        return self._cache

    def removed_ids(self) -> np.ndarray:
        if self._removed_array is None:
            self._removed_array = np.fromiter(self.removed, np.int64, len(self.removed))
        return self._removed_array

    def live_mask(self) -> np.ndarray:
        _h, ids, _q, order = self.arrays()
        if not self.removed or not len(ids):
            return np.ones(len(ids), bool)
        removed_at = np.array([self.removed.get(i, -1) for i in ids.tolist()], np.int64)
        return removed_at < order

    def __len__(self) -> int:
        return sum(len(p[1]) for p in self._parts)


class PDQIndex:
    """Exact radius search over 256-bit hashes; see the module docstring for the design."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_fd: int | None = None
        self._log_fd: int | None = None
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
            with _locked(p):
                if not (p / MANIFEST).exists():
                    _write_manifest(p, {"generation": 0, "segment": None, "store_seq": 0})
        return cls(p)

    def _load(self) -> None:
        try:
            manifest = json.loads((self.path / MANIFEST).read_text())
        except (OSError, ValueError) as exc:
            raise IndexError_(f"{self.path}: cannot read {MANIFEST}: {exc}") from exc
        if manifest.get("version") != FORMAT_VERSION or manifest.get("nbytes") != NBYTES:
            raise IndexError_(f"{self.path}: index format {manifest.get('version')!r} is not supported")
        self.generation = int(manifest["generation"])
        self._segment_store_seq = int(manifest.get("store_seq", 0))
        self.store_token = str(manifest.get("store_token", ""))
        segment = manifest.get("segment")
        self.segment = _Segment.load(self.path / segment) if segment else _Segment.empty()
        self.delta = _Delta()
        self._added: tuple[int, _Segment] | None = None
        self.store_seq = self._segment_store_seq
        self._ops = 0
        self._log_end = 0
        self._replay()

    @property
    def _log_path(self) -> Path:
        return self.path / f"log-{self.generation:06d}"

    def _replay(self) -> None:
        """Apply the log's complete records; stop at the first torn or damaged one."""
        if not self._log_path.exists():
            return
        with open(self._log_path, "rb") as fh:
            fh.seek(self._log_end)
            while True:
                head = fh.read(_REC.size)
                if len(head) < _REC.size:
                    break
                length, crc = _REC.unpack(head)
                payload = fh.read(length)
                if len(payload) < length or zlib.crc32(payload) != crc:
                    break
                self._apply(payload)
                self._log_end += _REC.size + length

    def _apply(self, payload: bytes) -> None:
        self._ops += 1
        op, n = payload[0:1], int.from_bytes(payload[1:9], "little")
        body = memoryview(payload)[9:]
        if op == b"A":
            ids = np.frombuffer(body, np.int64, n, 0)
            quality = np.frombuffer(body, np.uint8, n, 8 * n)
            hashes = np.frombuffer(body, np.uint8, n * NBYTES, 9 * n).reshape(n, NBYTES)
            self.delta.add(hashes, ids, quality, self._ops)
        elif op == b"R":
            self.delta.remove(np.frombuffer(body, np.int64, n, 0), self._ops)
        elif op == b"M":
            self.store_seq = n
            self.store_token = bytes(body).decode()
        else:
            raise IndexError_(f"{self._log_path}: unknown record {op!r}")

    def refresh(self) -> None:
        """See what other processes have added, removed or saved since this one opened the index."""
        try:
            generation = int(json.loads((self.path / MANIFEST).read_text())["generation"])
        except (OSError, ValueError, KeyError) as exc:
            raise IndexError_(f"{self.path}: cannot read {MANIFEST}: {exc}") from exc
        if generation != self.generation:
            self._load()
        else:
            self._replay()

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

    @property
    def pending(self) -> int:
        """Log records not yet folded into the segment."""
        return self._ops

    # ---- writing -----------------------------------------------------------------------------------

    def add(self, hashes: np.ndarray, ids: np.ndarray, quality: np.ndarray | None = None) -> None:
        """Add rows (an id may own several hashes); visible to searches at once, durable on return."""
        h = _as_queries(hashes) if len(hashes) else np.zeros((0, NBYTES), np.uint8)
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
            self._append(b"A" + len(h).to_bytes(8, "little") + i.tobytes() + q.tobytes() + h.tobytes())

    def remove(self, ids: np.ndarray | list[int]) -> None:
        """Remove every row of these ids (rows added later under the same id stay)."""
        i = np.unique(np.asarray(ids, dtype=np.int64).reshape(-1))
        if len(i):
            self._append(b"R" + len(i).to_bytes(8, "little") + i.tobytes())

    def mark(self, store_seq: int, token: str = "") -> None:
        """Record that the index now reflects the store up to change `store_seq`; `token` identifies that
        change (so an index facing a restored or recreated store notices it is not that store's)."""
        self._append(b"M" + int(store_seq).to_bytes(8, "little") + token.encode())

    def _append(self, payload: bytes) -> None:
        self._acquire()
        self._replay()  # another writer may have appended before this one took the lock
        assert self._log_fd is not None
        os.write(self._log_fd, _REC.pack(len(payload), zlib.crc32(payload)) + payload)
        os.fsync(self._log_fd)
        self._apply(payload)
        self._log_end += _REC.size + len(payload)

    def _acquire(self) -> None:
        """Take the writer lock (held until close); open the log to append after its last good record."""
        if self._lock_fd is None:
            fd = os.open(self.path / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._lock_fd = fd
            self.refresh()
            self._clean()
        if self._log_fd is None:
            fd = os.open(self._log_path, os.O_WRONLY | os.O_CREAT, 0o644)
            os.ftruncate(fd, self._log_end)  # drop a record torn by a crash
            os.lseek(fd, 0, os.SEEK_END)
            self._log_fd = fd

    def _clean(self) -> None:
        """Remove what an interrupted save left behind: unreferenced segments, logs and temporaries."""
        keep = {f"seg-{self.generation:06d}", self._log_path.name, MANIFEST, "LOCK"}
        for child in self.path.iterdir():
            if child.name not in keep and child.name.startswith(("seg-", "log-", "tmp-")):
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)

    def save(self) -> None:
        """Fold the log into a new segment (a no-op when the log is empty)."""
        self._acquire()
        self.refresh()
        if not self._ops:
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
        h = _as_queries(hashes) if len(hashes) else np.zeros((0, NBYTES), np.uint8)
        i = np.asarray(ids, dtype=np.int64).reshape(-1)
        q = (
            np.full(len(h), UNKNOWN_QUALITY, np.uint8)
            if quality is None
            else np.asarray(quality, dtype=np.uint8).reshape(-1)
        )
        if not len(h) == len(i) == len(q):
            raise ValueError("hashes, ids and quality differ in length")
        generation = self.generation + 1
        name = f"seg-{generation:06d}"
        tmp = self.path / f"tmp-{name}"
        shutil.rmtree(tmp, ignore_errors=True)
        if len(h):
            _write_segment(tmp, _build_segment(h, i, q))
            tmp.rename(self.path / name)
        _write_manifest(
            self.path,
            {
                "generation": generation,
                "segment": name if len(h) else None,
                "store_seq": int(store_seq),
                "store_token": store_token,
            },
        )
        if self._log_fd is not None:
            os.close(self._log_fd)
            self._log_fd = None
        self._load()
        self._clean()

    def close(self) -> None:
        for attr in ("_log_fd", "_lock_fd"):
            fd = getattr(self, attr)
            if fd is not None:
                os.close(fd)
                setattr(self, attr, None)

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
        q = _as_queries(queries)
        if not 0 <= radius <= NBYTES * 8:
            raise ValueError(f"radius must be within 0..{NBYTES * 8}, got {radius}")
        best: list[dict[int, int]] = [{} for _ in range(len(q))]
        if len(self.segment):
            for qn, rows, dist in _search(self.segment, q, radius):
                self._collect(best, qn, self.segment.ids[rows].astype(np.int64), dist, rows, min_quality)
        added = self._added_segment()
        if len(added):
            for qn, rows, dist in _search(added, q, radius):
                keep = _quality_ok(added.quality[rows], min_quality)
                _merge(best, qn[keep], added.ids[rows[keep]].astype(np.int64), dist[keep])
        return [sorted(b.items(), key=lambda t: (t[1], t[0])) for b in best]

    def _added_segment(self) -> _Segment:
        """The live added rows as an in-memory segment, rebuilt when the log has changed since."""
        if self._added is None or self._added[0] != self.delta.version:
            dh, di, dq, _order = self.delta.arrays()
            live = self.delta.live_mask()
            self._added = (self.delta.version, _build_segment(dh[live], di[live], dq[live]))
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
        seg = self.segment
        problems: list[str] = []
        n = len(seg)
        keys = seg.hashes.view("<u2") if n else np.zeros((0, CHUNKS), np.uint16)
        for j in range(CHUNKS):
            off = np.asarray(seg.offsets[j], np.int64)
            if off[0] != 0 or off[-1] != n or np.any(np.diff(off) < 0):
                problems.append(f"chunk {j}: offsets are not a partition of the {n} rows")
                continue
            order = np.arange(n) if j == 0 else np.asarray(seg.perm[j - 1], np.int64)
            if j and (len(order) != n or not np.array_equal(np.sort(order), np.arange(n))):
                problems.append(f"chunk {j}: order is not a permutation of the rows")
                continue
            expected = np.repeat(np.arange(KEYS, dtype=np.uint16), np.diff(off))
            if not np.array_equal(keys[order, j], expected):
                problems.append(f"chunk {j}: rows are not filed under their chunk value")
        return problems

    def stats(self) -> dict[str, Any]:
        files = [p for p in self.path.rglob("*") if p.is_file()]
        return {
            "path": str(self.path),
            "rows": len(self),
            "segment_rows": len(self.segment),
            "pending_records": self._ops,
            "removed_ids": len(self.delta.removed),
            "store_seq": self.store_seq,
            "generation": self.generation,
            "bytes_on_disk": sum(p.stat().st_size for p in files),
        }


def _search(seg: _Segment, q: np.ndarray, radius: int) -> Iterator[_Found]:
    """Every (query number, row, distance) within `radius` in one segment."""
    plan = probe_plan(radius)
    per_query = seg.expected_candidates(plan)
    if len(seg) < _BRUTE_ROWS or per_query > _BRUTE_SHARE * len(seg):
        yield from _brute(q, seg.words, radius)
        return
    step = max(_BLOCK_QUERIES, -(-len(q) // _THREADS))
    blocks = [(lo, q[lo : lo + step]) for lo in range(0, len(q), step)]
    if len(blocks) > 1:
        # The kernel runs without the GIL, so blocks of queries run on every core.
        with ThreadPoolExecutor(min(_THREADS, len(blocks))) as pool:
            results = list(pool.map(lambda b: (b[0], seg.search(b[1], radius, plan)), blocks))
    else:
        results = [(0, seg.search(q, radius, plan))]
    for lo, (qn, rows, dist) in results:
        yield qn + lo, rows, dist


def _quality_ok(quality: np.ndarray, min_quality: int) -> np.ndarray:
    # Unknown quality (255) always passes.
    return np.asarray(quality) >= min_quality


def _brute(
    q: np.ndarray, words: np.ndarray, radius: int
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Every (query number, row, distance) within radius, by XOR and popcount over all rows."""
    qwords = q.view(np.uint64)
    rows_per_block = max(1, (1 << 20) // max(len(q), 1))
    for lo in range(0, len(words), rows_per_block):
        block = np.asarray(words[lo : lo + rows_per_block])
        dist = np.bitwise_count(qwords[:, None, :] ^ block[None, :, :]).sum(axis=2, dtype=np.int64)
        qn, rows = np.nonzero(dist <= radius)
        yield qn.astype(np.int64), rows.astype(np.int64) + lo, dist[qn, rows]


def _merge(best: list[dict[int, int]], qn: np.ndarray, ids: np.ndarray, dist: np.ndarray) -> None:
    for n, i, d in zip(qn.tolist(), ids.tolist(), dist.tolist(), strict=True):
        b = best[n]
        if d < b.get(i, NBYTES * 8 + 1):
            b[i] = d


def _write_manifest(path: Path, fields: dict[str, Any]) -> None:
    data = {"version": FORMAT_VERSION, "nbytes": NBYTES} | fields
    tmp = path / f"tmp-{MANIFEST}"
    with open(tmp, "w") as fh:
        json.dump(data, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path / MANIFEST)
    _fsync_dir(path)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
