"""Searching one segment: through its chunk tables (blocks of queries on several threads) or, when that
would touch a large share of the rows anyway, by XOR and popcount over every row.

The tuning constants are module attributes, read at each call (tests and the benchmark set them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from vigil.index.mih.segment import Found, Segment, probe_plan

# Past this share of the stored rows as candidates, scanning every row is cheaper than the chunk tables.
BRUTE_SHARE = 0.25
# Below this many rows, scanning them all is cheaper than any table look-up.
BRUTE_ROWS = 2048
# Fewer queries than this a thread are searched in one call (splitting costs more than it gains).
BLOCK_QUERIES = 32
THREADS = max(1, min(8, len(os.sched_getaffinity(0))))


def search_segment(seg: Segment, q: np.ndarray, radius: int) -> Iterator[Found]:
    """Every (query number, row, distance) within `radius` in one segment."""
    plan = probe_plan(radius)
    per_query = seg.expected_candidates(plan)
    if len(seg) < BRUTE_ROWS or per_query > BRUTE_SHARE * len(seg):
        yield from brute(q, seg.words, radius)
        return
    step = max(BLOCK_QUERIES, -(-len(q) // THREADS))
    blocks = [(lo, q[lo : lo + step]) for lo in range(0, len(q), step)]
    if len(blocks) > 1:
        # The kernel runs without the GIL, so blocks of queries run on every core.
        with ThreadPoolExecutor(min(THREADS, len(blocks))) as pool:
            results = list(pool.map(lambda b: (b[0], seg.search(b[1], radius, plan)), blocks))
    else:
        results = [(0, seg.search(q, radius, plan))]
    for lo, (qn, rows, dist) in results:
        yield qn + lo, rows, dist


def brute(q: np.ndarray, words: np.ndarray, radius: int) -> Iterator[Found]:
    """Every (query number, row, distance) within radius, by XOR and popcount over all rows."""
    qwords = q.view(np.uint64)
    rows_per_block = max(1, (1 << 20) // max(len(q), 1))
    for lo in range(0, len(words), rows_per_block):
        block = np.asarray(words[lo : lo + rows_per_block])
        dist = np.bitwise_count(qwords[:, None, :] ^ block[None, :, :]).sum(axis=2, dtype=np.int64)
        qn, rows = np.nonzero(dist <= radius)
        yield qn.astype(np.int64), rows.astype(np.int64) + lo, dist[qn, rows]
