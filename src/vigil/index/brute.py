"""Exact radius search by brute force over a packed uint64 matrix (XOR + popcount in numpy).

Fine for the store sizes a single unit keeps (a 100 000-hash store answers the 8 dihedral variants of a
query in a few milliseconds); the memory-mapped multi-index for national-scale stores has the same API.
"""

from __future__ import annotations

import numpy as np


class BruteForceIndex:
    def __init__(self, hashes: np.ndarray, ids: np.ndarray) -> None:
        hashes = np.ascontiguousarray(hashes, dtype=np.uint8)
        if hashes.ndim != 2 or hashes.shape[1] % 8:
            raise ValueError(f"hashes must be uint8[n, 8k], got shape {hashes.shape}")
        if len(ids) != len(hashes):
            raise ValueError("hashes and ids differ in length")
        self.nbytes = hashes.shape[1]
        self._words = (
            hashes.view(">u8").astype(np.uint64)
            if len(hashes)
            else np.zeros((0, self.nbytes // 8), np.uint64)
        )
        self._ids = np.asarray(ids, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._ids)

    def search(self, queries: np.ndarray, radius: int) -> list[list[tuple[int, int]]]:
        """For each query row, every (id, distance) with distance <= radius, nearest first."""
        queries = np.ascontiguousarray(queries, dtype=np.uint8).reshape(-1, self.nbytes)
        qwords = queries.view(">u8").astype(np.uint64)
        out: list[list[tuple[int, int]]] = []
        for q in qwords:
            if not len(self._ids):
                out.append([])
                continue
            dist = np.bitwise_count(self._words ^ q).sum(axis=1)
            hit = np.flatnonzero(dist <= radius)
            order = hit[np.argsort(dist[hit], kind="stable")]
            out.append([(int(self._ids[i]), int(dist[i])) for i in order])
        return out
