"""Perceptual index benchmark: vigil's PDQIndex vs faiss IndexBinaryMultiHash vs numpy brute force.

faiss is configured as python-threatexchange's PDQMultiHashIndex configures it (what HMA uses):
IndexBinaryIDMap2(IndexBinaryMultiHash(256, nhash=16, b=16)), nflip = threshold // 16, range_search with
threshold + 1. Every engine gets the same random 256-bit hashes and the same queries: stored hashes with
0..31 random bits flipped (each must be found) and unrelated random hashes. Results are cross-checked:
vigil's answers must equal brute force's and contain every planted match.

Open time and memory are measured in a fresh process per engine (what a scan or server worker pays).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np

RADIUS = 31
N_QUERIES = 2000
N_SINGLE = 300
N_BRUTE = 20


def make_data(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    planted = rng.integers(0, n, N_QUERIES * 4 // 5)
    bits = np.unpackbits(hashes[planted], axis=1)
    ks = np.arange(len(planted)) % (RADIUS + 1)
    for row, k in enumerate(ks):
        bits[row, rng.choice(256, int(k), replace=False)] ^= 1
    unrelated = rng.integers(0, 256, (N_QUERIES - len(planted), 32), dtype=np.uint8)
    queries = np.concatenate([np.packbits(bits, axis=1), unrelated])
    return hashes, queries, planted, ks


def _rate(fn: Any, queries: np.ndarray, one_by_one: bool) -> float:
    t = time.perf_counter()
    if one_by_one:
        for q in queries:
            fn(q[None, :])
    else:
        fn(queries)
    return len(queries) / (time.perf_counter() - t)


OPEN_PROBE = textwrap.dedent(
    """
    import json, sys, time, resource
    import numpy as np
    def rss():
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * resource.getpagesize()
    engine, path = sys.argv[1], sys.argv[2]
    q = np.zeros((1, 32), np.uint8)
    if engine == "vigil":
        from vigil.index import PDQIndex
        before = rss(); t = time.perf_counter()
        index = PDQIndex.open(path, create=False)
        opened = time.perf_counter() - t
        rss_open = rss() - before
        index.search(q, 31)
    else:
        import faiss
        before = rss(); t = time.perf_counter()
        index = faiss.read_index_binary(path)
        faiss.downcast_IndexBinary(index.index).nflip = 1
        opened = time.perf_counter() - t
        rss_open = rss() - before
        index.range_search(q, 32)
    print(json.dumps({"open_s": opened, "rss_open": rss_open, "rss_after_query": rss() - before}))
    """
)


def _probe(engine: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", OPEN_PROBE, engine, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def _dir_size(path: Path) -> int:
    return (
        sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        if path.is_dir()
        else path.stat().st_size
    )


def bench_vigil(tmp: Path, hashes: np.ndarray, queries: np.ndarray) -> tuple[dict[str, Any], list[Any]]:
    from vigil.index import PDQIndex
    from vigil.index.mih import search as mih_search

    path = tmp / "vigil-index"
    t = time.perf_counter()
    with PDQIndex.open(path) as index:
        index.replace(hashes, np.arange(len(hashes)))
    build = time.perf_counter() - t
    index = PDQIndex.open(path, create=False)
    index.search(queries[:50], RADIUS)  # warm the page cache like a running server
    batched_result = index.search(queries, RADIUS)
    batched = _rate(lambda q: index.search(q, RADIUS), queries, False)
    threads = mih_search.THREADS
    mih_search.THREADS = 1
    try:
        batched_1 = _rate(lambda q: index.search(q, RADIUS), queries, False)
    finally:
        mih_search.THREADS = threads
    single = _rate(lambda q: index.search(q, RADIUS), queries[:N_SINGLE], True)
    # Incremental: 1 % more rows through the log, then a query batch over segment + log.
    extra = np.random.default_rng(5).integers(0, 256, (max(1, len(hashes) // 100), 32), dtype=np.uint8)
    t = time.perf_counter()
    index.add(extra, np.arange(len(hashes), len(hashes) + len(extra)))
    add_s = time.perf_counter() - t
    with_log = _rate(lambda q: index.search(q, RADIUS), queries, False)
    index.close()
    probe = _probe("vigil", path)
    return (
        {
            "build_s": build,
            "bytes": _dir_size(path) - _log_bytes(path),
            **probe,
            "batched_qps": batched,
            "batched_qps_1thread": batched_1,
            "single_qps": single,
            "add_1pct_s": add_s,
            "batched_qps_with_1pct_log": with_log,
        },
        batched_result,
    )


def _log_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.glob("log-*"))


def bench_faiss(tmp: Path, hashes: np.ndarray, queries: np.ndarray) -> tuple[dict[str, Any], list[Any]]:
    import faiss

    t = time.perf_counter()
    index = faiss.IndexBinaryIDMap2(faiss.IndexBinaryMultiHash(256, 16, 16))
    index.add_with_ids(hashes, np.arange(len(hashes), dtype=np.int64))
    build = time.perf_counter() - t
    faiss.downcast_IndexBinary(index.index).nflip = RADIUS // 16  # type: ignore[attr-defined]
    path = tmp / "faiss.index"
    faiss.write_index_binary(index, str(path))

    def search(q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return index.range_search(q, RADIUS + 1)

    lims, dist, ids = search(queries)
    result = [
        sorted(
            zip(ids[lims[i] : lims[i + 1]].tolist(), dist[lims[i] : lims[i + 1]].tolist(), strict=True),
            key=lambda t: (t[1], t[0]),
        )
        for i in range(len(queries))
    ]
    batched = _rate(search, queries, False)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        batched_1 = _rate(search, queries, False)
        single = _rate(search, queries[:N_SINGLE], True)
    finally:
        faiss.omp_set_num_threads(threads)
    probe = _probe("faiss", path)
    return (
        {
            "build_s": build,
            "bytes": path.stat().st_size,
            **probe,
            "batched_qps": batched,
            "batched_qps_1thread": batched_1,
            "single_qps": single,
        },
        result,
    )


def bench_brute(hashes: np.ndarray, queries: np.ndarray) -> tuple[dict[str, Any], list[Any]]:
    from vigil.index import BruteForceIndex

    t = time.perf_counter()
    index = BruteForceIndex(hashes, np.arange(len(hashes)))
    build = time.perf_counter() - t
    sample = queries[:: max(1, len(queries) // N_BRUTE)][:N_BRUTE]
    result = index.search(sample, RADIUS)
    single = _rate(lambda q: index.search(q, RADIUS), sample, True)
    return {"build_s": build, "bytes": hashes.nbytes + 8 * len(hashes), "single_qps": single}, result


def run(sizes: list[int], tmp: Path) -> list[dict[str, Any]]:
    rows = []
    for n in sizes:
        print(f"index: {n:,} hashes ...", flush=True)
        hashes, queries, planted, ks = make_data(n)
        with tempfile.TemporaryDirectory(dir=tmp) as d:
            vigil, v_res = bench_vigil(Path(d), hashes, queries)
        recall = sum((int(p), int(k)) in hits for p, k, hits in zip(planted, ks, v_res, strict=False)) / len(
            planted
        )
        with tempfile.TemporaryDirectory(dir=tmp) as d:
            faiss_row, f_res = bench_faiss(Path(d), hashes, queries)
        f_recall = sum(int(p) in {i for i, _ in hits} for p, hits in zip(planted, f_res, strict=False)) / len(
            planted
        )
        brute, b_res = bench_brute(hashes, queries)
        sample = queries[:: max(1, len(queries) // N_BRUTE)][:N_BRUTE]
        step = max(1, len(queries) // N_BRUTE)
        agree_brute = all(sorted(v_res[i * step]) == sorted(b_res[i]) for i in range(len(sample)))
        agree_faiss = all(
            sorted(v) == sorted((i, int(d)) for i, d in f) for v, f in zip(v_res, f_res, strict=True)
        )
        rows.append(
            {
                "n": n,
                "queries": len(queries),
                "planted": len(planted),
                "vigil": vigil,
                "faiss": faiss_row,
                "brute": brute,
                "recall_vigil": recall,
                "recall_faiss": f_recall,
                "vigil_equals_brute_force": agree_brute,
                "vigil_equals_faiss": agree_faiss,
            }
        )
        print(json.dumps(rows[-1], indent=1), flush=True)
    return rows


def render(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| hashes | engine | build s | on disk | bytes/hash | open s | RSS after open | "
        "batched q/s (2 cores) | batched q/s (1 thread) | single q/s | recall@31 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        n = r["n"]
        for name, key, recall in (
            ("vigil", "vigil", r["recall_vigil"]),
            ("faiss MIH", "faiss", r["recall_faiss"]),
        ):
            e = r[key]
            lines.append(
                f"| {n:,} | {name} | {e['build_s']:.1f} | {e['bytes'] / 2**20:,.0f} MiB | "
                f"{e['bytes'] / n:.1f} | "
                f"{e['open_s']:.3f} | {e['rss_open'] / 2**20:,.0f} MiB | {e['batched_qps']:,.0f} | "
                f"{e['batched_qps_1thread']:,.0f} | {e['single_qps']:,.0f} | {recall:.1%} |"
            )
        b = r["brute"]
        lines.append(
            f"| {n:,} | numpy brute force | {b['build_s']:.1f} | ({b['bytes'] / 2**20:,.0f} MiB in RAM) | "
            f"{b['bytes'] / n:.0f} | – | – | – | – | {b['single_qps']:,.1f} | 100% |"
        )
    lines.append("")
    for r in rows:
        v, f = r["vigil"], r["faiss"]
        lines.append(
            f"- {r['n']:,}: vigil/faiss batched {v['batched_qps'] / f['batched_qps']:.1f}×, one thread "
            f"{v['batched_qps_1thread'] / f['batched_qps_1thread']:.1f}×, single query "
            f"{v['single_qps'] / f['single_qps']:.1f}×, "
            f"open {f['open_s'] / max(v['open_s'], 1e-9):,.0f}× faster, "
            f"on disk {v['bytes'] / f['bytes']:.2f}× faiss's file, but "
            f"{f['rss_open'] / max(v['rss_open'], 2**20):,.0f}× less memory once open; "
            "vigil vs brute force single query "
            f"{v['single_qps'] / r['brute']['single_qps']:,.0f}×. Adding 1 % more rows (log): "
            f"{v['add_1pct_s']:.2f} s, then batched {v['batched_qps_with_1pct_log']:,.0f} q/s. "
            f"Answers equal brute force: {r['vigil_equals_brute_force']}; "
            f"equal faiss: {r['vigil_equals_faiss']}."
        )
    return lines


if __name__ == "__main__":
    sizes = [int(x) for x in sys.argv[1:]] or [1_000_000]
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as d:
        print("\n".join(render(run(sizes, Path(d)))))
    os._exit(0)
