"""The segment: an index's immutable base, as .npy arrays memory-mapped read-only (layout in the package
docstring), and the chunk arithmetic that makes searching it exact.

A hash is cut into 16 chunks of 16 bits. Rows are sorted by chunk 0; for every other chunk the segment
keeps that chunk's order of the rows, and for every chunk where each 16-bit value's rows start.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vigil.core.errors import VigilError
from vigil.core.fsio import fsync_dir

NBYTES = 32
CHUNKS = NBYTES // 2
KEYS = 1 << 16
UNKNOWN_QUALITY = 255
SEGMENT_FILES = ("hashes", "ids", "quality", "offsets", "perm")
_POP16 = np.bitwise_count(np.arange(KEYS, dtype=np.uint16)).astype(np.int8)

Found = tuple[np.ndarray, np.ndarray, np.ndarray]  # query numbers, rows, distances


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


def as_queries(queries: np.ndarray) -> np.ndarray:
    """`queries` as contiguous uint8[m, 32] (one hash becomes one row); ValueError for any other shape."""
    q = np.ascontiguousarray(queries, dtype=np.uint8)
    if q.ndim == 1:
        q = q.reshape(1, -1)
    if q.ndim != 2 or q.shape[1] != NBYTES:
        raise ValueError(f"queries must be uint8[m, {NBYTES}], got shape {np.shape(queries)}")
    return q


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
class Segment:
    """The immutable base: rows sorted by chunk 0, plus the order of every other chunk."""

    hashes: np.ndarray  # uint8[n, 32]
    ids: np.ndarray
    quality: np.ndarray
    offsets: np.ndarray  # [16, 65537]
    perm: np.ndarray  # [15, n]

    @classmethod
    def load(cls, directory: Path) -> Segment:
        seg = cls(*(_load_array(directory / f"{name}.npy") for name in SEGMENT_FILES))
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
    def empty(cls) -> Segment:
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

    def search(self, q: np.ndarray, radius: int, plan: list[tuple[int, int]]) -> Found:
        """(query number, row, distance) of every row within `radius`, each once: the probes of `plan`
        walked by the compiled loop of vigil.index.kernel (imported here: numba is only loaded when a
        segment is searched)."""
        from vigil.index import kernel

        return kernel.probe(self.hashes, self.offsets, self.perm, q, radius, _kernel_plan(tuple(plan)))

    def verify(self) -> list[str]:
        """Structural checks; returns the problems found (empty when sound)."""
        problems: list[str] = []
        n = len(self)
        keys = self.hashes.view("<u2") if n else np.zeros((0, CHUNKS), np.uint16)
        for j in range(CHUNKS):
            off = np.asarray(self.offsets[j], np.int64)
            if off[0] != 0 or off[-1] != n or np.any(np.diff(off) < 0):
                problems.append(f"chunk {j}: offsets are not a partition of the {n} rows")
                continue
            order = np.arange(n) if j == 0 else np.asarray(self.perm[j - 1], np.int64)
            if j and (len(order) != n or not np.array_equal(np.sort(order), np.arange(n))):
                problems.append(f"chunk {j}: order is not a permutation of the rows")
                continue
            expected = np.repeat(np.arange(KEYS, dtype=np.uint16), np.diff(off))
            if not np.array_equal(keys[order, j], expected):
                problems.append(f"chunk {j}: rows are not filed under their chunk value")
        return problems


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


def build_segment(hashes: np.ndarray, ids: np.ndarray, quality: np.ndarray) -> Segment:
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
    return Segment(hashes, ids.astype(id_dtype), quality, offsets, perm)


def write_segment(directory: Path, segment: Segment) -> None:
    """Write the segment's arrays into a new `directory`, each file and the directory fsynced."""
    directory.mkdir(parents=True)
    for name in SEGMENT_FILES:
        _save_array(directory / f"{name}.npy", getattr(segment, name))
    fsync_dir(directory)
