"""Everything of an index directory but the segment: the append-only change log, the manifest that says
which segment and log are current, the writer lock, and the atomic switch to a new generation.

A log record is a header (payload length, crc32 of the payload; little-endian uint32 each) and a payload:
``A`` + n + ids (int64[n]) + quality (uint8[n]) + hashes (uint8[n, 32]) adds rows, ``R`` + n + ids
(int64[n]) removes ids, ``M`` + store_seq + token (UTF-8) marks the store position; n and store_seq are
8-byte little-endian. Replaying stops at the first incomplete or damaged record.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from vigil.core.fsio import atomic_write
from vigil.index.mih.segment import NBYTES, IndexError_, Segment, write_segment

FORMAT_VERSION = 1
MANIFEST = "MANIFEST.json"
LOCK = "LOCK"
_REC = struct.Struct("<II")  # payload length, crc32(payload)


def segment_name(generation: int) -> str:
    return f"seg-{generation:06d}"


def log_name(generation: int) -> str:
    return f"log-{generation:06d}"


class Delta:
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


class ChangeLog:
    """One generation's log: its complete records applied to a `Delta` (and the store mark) as they are
    read, and records appended, checksummed and fsynced, by the process holding the writer lock."""

    def __init__(self, path: Path, store_seq: int, store_token: str) -> None:
        self.path = path
        self.delta = Delta()
        self.store_seq = store_seq
        self.store_token = store_token
        self.records = 0  # records applied, i.e. not yet folded into the segment
        self.end = 0  # where the last complete record read or written ends
        self._fd: int | None = None

    def replay(self) -> None:
        """Apply the log's complete records; stop at the first torn or damaged one."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            fh.seek(self.end)
            while True:
                head = fh.read(_REC.size)
                if len(head) < _REC.size:
                    break
                length, crc = _REC.unpack(head)
                payload = fh.read(length)
                if len(payload) < length or zlib.crc32(payload) != crc:
                    break
                self.apply(payload)
                self.end += _REC.size + length

    def apply(self, payload: bytes) -> None:
        self.records += 1
        op, n = payload[0:1], int.from_bytes(payload[1:9], "little")
        body = memoryview(payload)[9:]
        if op == b"A":
            ids = np.frombuffer(body, np.int64, n, 0)
            quality = np.frombuffer(body, np.uint8, n, 8 * n)
            hashes = np.frombuffer(body, np.uint8, n * NBYTES, 9 * n).reshape(n, NBYTES)
            self.delta.add(hashes, ids, quality, self.records)
        elif op == b"R":
            self.delta.remove(np.frombuffer(body, np.int64, n, 0), self.records)
        elif op == b"M":
            self.store_seq = n
            self.store_token = bytes(body).decode()
        else:
            raise IndexError_(f"{self.path}: unknown record {op!r}")

    def open_for_append(self) -> None:
        """Open the log (creating it) to append after its last good record: a record torn by a crash is
        cut off here. Only the holder of the writer lock may call this."""
        if self._fd is None:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
            os.ftruncate(fd, self.end)
            os.lseek(fd, 0, os.SEEK_END)
            self._fd = fd

    def append(self, payload: bytes) -> None:
        """Write one record, fsync it and apply it (after `open_for_append`)."""
        self.replay()  # another writer may have appended before this one took the lock
        if self._fd is None:
            raise RuntimeError(f"{self.path}: the log is not open for appending")
        os.write(self._fd, _REC.pack(len(payload), zlib.crc32(payload)) + payload)
        os.fsync(self._fd)
        self.apply(payload)
        self.end += _REC.size + len(payload)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def add_record(hashes: np.ndarray, ids: np.ndarray, quality: np.ndarray) -> bytes:
    return b"A" + len(hashes).to_bytes(8, "little") + ids.tobytes() + quality.tobytes() + hashes.tobytes()


def remove_record(ids: np.ndarray) -> bytes:
    return b"R" + len(ids).to_bytes(8, "little") + ids.tobytes()


def mark_record(store_seq: int, token: str) -> bytes:
    return b"M" + int(store_seq).to_bytes(8, "little") + token.encode()


# ---- the manifest and the writer lock -----------------------------------------------------------------


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of the index in `directory`, checked to be of this format."""
    try:
        manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise IndexError_(f"{directory}: cannot read {MANIFEST}: {exc}") from exc
    if manifest.get("version") != FORMAT_VERSION or manifest.get("nbytes") != NBYTES:
        raise IndexError_(f"{directory}: index format {manifest.get('version')!r} is not supported")
    return manifest


def current_generation(directory: Path) -> int:
    """The generation the manifest names now (cheap: what `refresh` compares with its own)."""
    try:
        return int(json.loads((directory / MANIFEST).read_text())["generation"])
    except (OSError, ValueError, KeyError) as exc:
        raise IndexError_(f"{directory}: cannot read {MANIFEST}: {exc}") from exc


def write_manifest(directory: Path, fields: dict[str, Any]) -> None:
    """Replace the manifest atomically and durably: readable by the other accounts that open a shared
    index (the scanner, the server), its temporary named ``tmp-...`` so `clean` removes one a crash left,
    and the folder fsynced after the rename so the switch to the new generation survives a crash."""
    data = {"version": FORMAT_VERSION, "nbytes": NBYTES} | fields
    with atomic_write(directory / MANIFEST, prefix=f"tmp-{MANIFEST}.", perms=0o644, sync_dir=True) as fh:
        json.dump(data, fh)


def take_lock(directory: Path) -> int:
    """Wait for the index's writer lock; it is held until the returned descriptor is closed."""
    fd = os.open(directory / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    fd = take_lock(directory)
    try:
        yield
    finally:
        os.close(fd)


# ---- switching generations -----------------------------------------------------------------------------


def write_generation(
    directory: Path, generation: int, segment: Segment | None, *, store_seq: int, store_token: str
) -> None:
    """Make `segment` (None: no rows) the content of the index as generation `generation`: its arrays are
    written to a temporary folder and renamed into place, then the manifest is switched to it. Until the
    manifest is replaced the previous generation stays in force; `clean` removes what a crash left."""
    name = segment_name(generation)
    tmp = directory / f"tmp-{name}"
    shutil.rmtree(tmp, ignore_errors=True)
    if segment is not None:
        write_segment(tmp, segment)
        tmp.rename(directory / name)
    write_manifest(
        directory,
        {
            "generation": generation,
            "segment": name if segment is not None else None,
            "store_seq": int(store_seq),
            "store_token": store_token,
        },
    )


def clean(directory: Path, generation: int) -> None:
    """Remove what an interrupted save left behind: unreferenced segments, logs and temporaries."""
    keep = {segment_name(generation), log_name(generation), MANIFEST, LOCK}
    for child in directory.iterdir():
        if child.name not in keep and child.name.startswith(("seg-", "log-", "tmp-")):
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
