"""PDQIndex: exact against brute force, incremental, persistent, crash-safe."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
import zlib
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.index import BruteForceIndex, PDQIndex
from vigil.index.mih import IndexError_, probe_plan
from vigil.index.mih import search as mih_search
from vigil.index.mih.segment import build_segment

BITS = 256


def flip(hashes: np.ndarray, ks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Copies of `hashes` with ks[i] distinct random bits flipped in row i."""
    bits = np.unpackbits(hashes, axis=1)
    for row, k in enumerate(ks):
        bits[row, rng.choice(BITS, int(k), replace=False)] ^= 1
    return np.packbits(bits, axis=1)


def reference(
    hashes: np.ndarray, ids: np.ndarray, queries: np.ndarray, radius: int
) -> list[list[tuple[int, int]]]:
    """Brute force with the index's semantics: each id once, at its nearest row, nearest first."""
    out = []
    for hits in BruteForceIndex(hashes, ids).search(queries, radius):
        best: dict[int, int] = {}
        for i, d in hits:
            best[i] = min(d, best.get(i, BITS + 1))
        out.append(sorted(best.items(), key=lambda t: (t[1], t[0])))
    return out


def clustered(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random hashes plus near copies of some of them, so the radius boundary is actually exercised."""
    base = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    near = flip(base[: n // 3], rng.integers(0, 70, n // 3), rng)
    return np.concatenate([base, near])


def test_probe_plan_is_pigeonhole_exact() -> None:
    # r = 16q + a: the first a+1 chunks at q bits, the rest at q-1.
    assert probe_plan(31) == [(j, 1) for j in range(16)]
    assert probe_plan(0) == [(0, 0)]
    assert probe_plan(16) == [(0, 1)] + [(j, 0) for j in range(1, 16)]
    for radius in range(0, 80):
        plan = probe_plan(radius)
        # Smallest total distance that escapes every probe must exceed the radius.
        escape = sum(bits + 1 for _, bits in plan)
        assert escape > radius
        assert escape <= radius + 16  # and no probe wasted on more bits than needed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 600),
    radius=st.sampled_from([0, 1, 15, 16, 17, 31, 32, 47, 63]) | st.integers(0, 80),
    removed=st.integers(0, 20),
    added=st.integers(0, 60),
    tables=st.booleans(),
)
def test_search_equals_brute_force(
    tmp_path_factory: pytest.TempPathFactory,
    seed: int,
    n: int,
    radius: int,
    removed: int,
    added: int,
    tables: bool,
) -> None:
    # Small segments are normally scanned whole; `tables` forces the multi-index path even for them.
    with mock.patch.object(mih_search, "BRUTE_ROWS", 0 if tables else mih_search.BRUTE_ROWS):
        check_against_brute_force(tmp_path_factory.mktemp("idx"), seed, n, radius, removed, added)


def check_against_brute_force(path: Path, seed: int, n: int, radius: int, removed: int, added: int) -> None:
    rng = np.random.default_rng(seed)
    hashes = clustered(rng, n)
    ids = rng.integers(0, max(2, len(hashes) // 2), len(hashes))  # ids repeat, as a video's frames do
    index = PDQIndex.open(path)
    index.replace(hashes, ids)
    # Incremental changes on top of the segment: removals, then additions (some under removed ids).
    gone = rng.choice(ids, min(removed, len(ids)), replace=False) if removed else np.zeros(0, np.int64)
    index.remove(gone)
    extra = clustered(rng, added) if added else np.zeros((0, 32), np.uint8)
    extra_ids = np.concatenate(
        [gone[: len(extra)], rng.integers(10**6, 10**6 + 50, max(0, len(extra) - len(gone)))]
    )
    index.add(extra, extra_ids[: len(extra)])
    live = ~np.isin(ids, gone)
    all_hashes = np.concatenate([hashes[live], extra])
    all_ids = np.concatenate([ids[live], extra_ids[: len(extra)]])

    # Queries near stored rows, live or removed, and unrelated ones.
    pool = np.concatenate([hashes, extra])
    picks = rng.integers(0, len(pool), 25)
    queries = np.concatenate(
        [
            flip(pool[picks], rng.integers(0, 40, len(picks)), rng),
            rng.integers(0, 256, (5, 32), dtype=np.uint8),  # unrelated
        ]
    )
    assert index.search(queries, radius) == reference(all_hashes, all_ids, queries, radius)
    assert len(index) == len(all_ids)
    index.close()


def test_every_hash_within_31_bits_is_found_in_a_large_index(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    hashes = rng.integers(0, 256, (200_000, 32), dtype=np.uint8)
    index = PDQIndex.open(tmp_path / "i")
    index.replace(hashes, np.arange(len(hashes)))
    picks = rng.integers(0, len(hashes), 400)
    ks = np.arange(400) % 32  # every distance 0..31
    queries = flip(hashes[picks], ks, rng)
    results = index.search(queries, 31)
    for pick, k, hits in zip(picks, ks, results, strict=True):
        assert (int(pick), int(k)) in hits
    assert results == reference(hashes, np.arange(len(hashes)), queries, 31)


def test_radius_zero_and_out_of_range(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    hashes = rng.integers(0, 256, (1000, 32), dtype=np.uint8)
    index = PDQIndex.open(tmp_path)
    index.replace(hashes, np.arange(1000) + 5)
    one_off = flip(hashes[:1], np.array([1]), rng)
    assert index.search(hashes[3:4], 0) == [[(8, 0)]]
    assert index.search(one_off, 0) == [[]]
    assert index.search(one_off, 1) == [[(5, 1)]]
    with pytest.raises(ValueError, match="radius"):
        index.search(hashes[:1], 257)
    with pytest.raises(ValueError, match=r"uint8\[m, 32\]"):
        index.search(np.zeros((1, 16), np.uint8), 31)


def test_variants_are_searched_in_one_call(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    hashes = rng.integers(0, 256, (50, 32), dtype=np.uint8)
    index = PDQIndex.open(tmp_path)
    index.replace(hashes, np.arange(50))
    variants = np.stack(
        [rng.integers(0, 256, 32, dtype=np.uint8), hashes[7], flip(hashes[9:10], np.array([4]), rng)[0]]
    )
    assert index.search_variants(variants, 31) == [(7, 0), (9, 4)]


def test_quality_floor_leaves_out_weak_stored_hashes(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    hashes = rng.integers(0, 256, (3, 32), dtype=np.uint8)
    index = PDQIndex.open(tmp_path)
    index.replace(hashes[:2], [1, 2], quality=[90, 20])
    index.add(hashes[2:], [3])  # quality unknown: never filtered
    found = index.search(hashes, 0, min_quality=50)
    assert found == [[(1, 0)], [], [(3, 0)]]
    assert index.search(hashes[1:2], 0) == [[(2, 0)]]


def test_adds_and_removes_are_visible_at_once_and_after_reopen(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    hashes = rng.integers(0, 256, (10, 32), dtype=np.uint8)
    index = PDQIndex.open(tmp_path)
    index.replace(hashes[:5], [1, 2, 3, 4, 5])
    index.add(hashes[5:], [6, 7, 8, 9, 9])
    index.remove([2, 9])
    index.add(hashes[9:], [9])  # re-added after its removal: only this row is live for id 9
    expect = [[(1, 0)], [], [(3, 0)], [(4, 0)], [(5, 0)], [(6, 0)], [(7, 0)], [(8, 0)], [], [(9, 0)]]
    assert index.search(hashes, 0) == expect
    assert len(index) == 8 and index.pending == 3
    index.close()
    again = PDQIndex.open(tmp_path, create=False)
    assert again.search(hashes, 0) == expect and len(again) == 8
    again.save()  # fold into a new segment
    assert again.pending == 0 and len(again.segment) == 8
    assert again.search(hashes, 0) == expect
    assert again.verify() == []
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["LOCK", "MANIFEST.json", f"seg-{again.generation:06d}"], files


def test_other_processes_see_changes_after_refresh(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    hashes = rng.integers(0, 256, (4, 32), dtype=np.uint8)
    writer = PDQIndex.open(tmp_path)
    writer.replace(hashes[:2], [1, 2])
    reader = PDQIndex.open(tmp_path)
    writer.add(hashes[2:3], [3])
    assert reader.search(hashes[2:3], 0) == [[]]
    reader.refresh()
    assert reader.search(hashes[2:3], 0) == [[(3, 0)]]
    writer.add(hashes[3:], [4])
    writer.save()  # new generation: the reader's old files are gone from the directory but still mapped
    assert reader.search(hashes[:1], 0) == [[(1, 0)]]
    reader.refresh()
    assert reader.generation == writer.generation
    assert reader.search(hashes, 0) == [[(1, 0)], [(2, 0)], [(3, 0)], [(4, 0)]]


def test_a_torn_log_record_is_dropped_and_the_next_write_continues(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    hashes = rng.integers(0, 256, (3, 32), dtype=np.uint8)
    index = PDQIndex.open(tmp_path)
    index.add(hashes[:1], [1])
    index.add(hashes[1:2], [2])
    index.close()
    log = next(tmp_path.glob("log-*"))
    size = log.stat().st_size
    with open(log, "r+b") as fh:
        fh.truncate(size - 5)  # as if killed in the middle of writing the second add
    again = PDQIndex.open(tmp_path)
    assert again.search(hashes, 0) == [[(1, 0)], [], []]
    again.add(hashes[2:], [3])
    again.close()
    third = PDQIndex.open(tmp_path)
    assert third.search(hashes, 0) == [[(1, 0)], [], [(3, 0)]]


def test_a_folder_written_by_hand_to_the_documented_layout_opens(tmp_path: Path) -> None:
    """The on-disk format, pinned without the index's own writer: a segment of .npy arrays, a manifest
    naming it, and a log of checksummed records (an add and a store mark) that opening replays."""
    rng = np.random.default_rng(10)
    hashes = clustered(rng, 3000)
    hashes = hashes[np.argsort(hashes.view("<u2")[:, 0], kind="stable")]
    ids = np.arange(len(hashes), dtype=np.uint32) + 100
    keys = hashes.view("<u2")
    offsets = np.zeros((16, 65537), np.uint32)
    for j in range(16):
        offsets[j, 1:] = np.cumsum(np.bincount(keys[:, j], minlength=65536))
    perm = np.stack([np.argsort(keys[:, j], kind="stable") for j in range(1, 16)]).astype(np.uint32)
    seg = tmp_path / "seg-000003"
    seg.mkdir()
    arrays = {"hashes": hashes, "ids": ids, "quality": np.full(len(ids), 80, np.uint8), "offsets": offsets}
    for name, array in (arrays | {"perm": perm}).items():
        np.save(seg / f"{name}.npy", array)
    manifest = {"version": 1, "nbytes": 32, "generation": 3, "segment": seg.name, "store_seq": 4}
    (tmp_path / "MANIFEST.json").write_text(json.dumps(manifest | {"store_token": "4@t"}))
    extra = rng.integers(0, 256, (2, 32), dtype=np.uint8)
    records = [
        b"A"
        + (2).to_bytes(8, "little")
        + np.array([7, 8], "<i8").tobytes()
        + bytes([255, 20])
        + extra.tobytes(),
        b"M" + (9).to_bytes(8, "little") + b"9@t",
    ]
    with open(tmp_path / "log-000003", "wb") as fh:
        for payload in records:
            fh.write(struct.pack("<II", len(payload), zlib.crc32(payload)) + payload)
    index = PDQIndex.open(tmp_path, create=False)
    assert (index.generation, index.store_seq, index.store_token, index.pending) == (3, 9, "9@t", 2)
    assert index.verify() == [] and len(index) == len(hashes) + 2
    queries = np.concatenate([flip(hashes[::100], rng.integers(0, 32, 30), rng), extra])
    all_ids = np.concatenate([ids.astype(np.int64), [7, 8]])
    assert index.search(queries, 31) == reference(np.concatenate([hashes, extra]), all_ids, queries, 31)
    assert index.search(extra, 0, min_quality=50) == [[(7, 0)], []]


def test_damaged_index_files_are_reported(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    index = PDQIndex.open(tmp_path / "i")
    index.replace(rng.integers(0, 256, (5000, 32), dtype=np.uint8), np.arange(5000))
    seg = tmp_path / "i" / f"seg-{index.generation:06d}"
    index.close()
    perm = np.load(seg / "perm.npy")
    perm[3, 10], perm[3, 20] = perm[3, 20], perm[3, 10]
    np.save(seg / "perm.npy", perm)
    problems = PDQIndex.open(tmp_path / "i").verify()
    assert problems and "chunk 4" in problems[0]
    (tmp_path / "i" / "MANIFEST.json").write_text("{not json")
    with pytest.raises(IndexError_, match=r"cannot read MANIFEST\.json"):
        PDQIndex.open(tmp_path / "i")
    with pytest.raises(IndexError_, match="no index here"):
        PDQIndex.open(tmp_path / "none", create=False)


KILLER = textwrap.dedent(
    """
    import sys, numpy as np
    from vigil.index import PDQIndex
    index = PDQIndex.open(sys.argv[1])
    rng = np.random.default_rng(int(sys.argv[2]))
    batch = 0
    while True:
        n = 2000
        ids = np.full(n, batch, np.int64)
        index.add(rng.integers(0, 256, (n, 32), dtype=np.uint8), ids)
        if batch % 3 == 2:
            index.remove([batch - 1])
        if batch % 7 == 6:
            index.save()
        print(batch, flush=True)
        batch += 1
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.05, 0.3, 0.8, 1.5])
def test_kill_9_during_adds_and_saves_reopens_consistent(tmp_path: Path, delay: float) -> None:
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    path = tmp_path / "idx"
    proc = subprocess.Popen([sys.executable, str(script), str(path), "1"], stdout=subprocess.PIPE, text=True)
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate()
    done = [int(x) for x in out.split()]
    index = PDQIndex.open(path)
    assert index.verify() == []
    _hashes, ids, _q = index.live_rows()
    counts = np.bincount(ids) if len(ids) else np.zeros(0, int)
    # Every batch is whole or absent; batches the writer finished are there unless removed.
    assert set(np.unique(counts)) <= {0, 2000}
    for b in done:
        present = b < len(counts) and counts[b] == 2000
        remover = b + 1 if (b + 1) % 3 == 2 else None
        if remover is None:
            assert present, f"batch {b} was added before the kill but is missing"
        elif remover in done:
            assert not present, f"batch {b} was removed before the kill but is back"
    # The index still takes writes after the crash.
    index.add(np.zeros((1, 32), np.uint8), [10**9])
    assert index.search(np.zeros((1, 32), np.uint8), 0)[0][0] == (10**9, 0)
    leftovers = [p.name for p in path.iterdir() if p.name.startswith("tmp-")]
    assert leftovers == []


def test_opening_maps_files_instead_of_reading_them(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    index = PDQIndex.open(tmp_path / "i")
    index.replace(rng.integers(0, 256, (1_000_000, 32), dtype=np.uint8), np.arange(1_000_000))
    index.close()
    probe = textwrap.dedent(
        """
        import json, resource, sys
        import numpy as np
        from vigil.index import PDQIndex
        def rss():
            with open("/proc/self/statm") as fh:
                return int(fh.read().split()[1]) * resource.getpagesize()
        before = rss()
        index = PDQIndex.open(sys.argv[1], create=False)
        opened = rss()
        hits = index.search(np.zeros((1, 32), np.uint8), 31)
        print(json.dumps({"open_bytes": opened - before, "rows": len(index.segment)}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "i")], capture_output=True, text=True, check=True
    )
    data = json.loads(out.stdout)
    assert data["rows"] == 1_000_000
    # ~97 MB of index files; opening them must not read them into memory.
    assert data["open_bytes"] < 20 * 2**20, data


def test_answers_equal_faiss_multi_index_as_threatexchange_configures_it(tmp_path: Path) -> None:
    """The peer HMA uses: IndexBinaryIDMap2(IndexBinaryMultiHash(256, 16, 16)), nflip = 31 // 16."""
    import faiss

    rng = np.random.default_rng(21)
    hashes = clustered(rng, 30_000)
    ids = np.arange(len(hashes), dtype=np.int64) * 7 + 3
    peer = faiss.IndexBinaryIDMap2(faiss.IndexBinaryMultiHash(256, 16, 16))
    peer.add_with_ids(hashes, ids)
    faiss.downcast_IndexBinary(peer.index).nflip = 31 // 16
    index = PDQIndex.open(tmp_path)
    index.replace(hashes, ids)
    queries = np.concatenate(
        [flip(hashes[rng.integers(0, len(hashes), 300)], rng.integers(0, 45, 300), rng), hashes[:50]]
    )
    lims, dist, found = peer.range_search(queries, 32)
    theirs = [
        sorted(zip(found[lims[i] : lims[i + 1]].tolist(), dist[lims[i] : lims[i + 1]].tolist(), strict=True))
        for i in range(len(queries))
    ]
    ours = [sorted(hits) for hits in index.search(queries, 31)]
    assert ours == theirs
    assert sum(map(len, ours)) >= 250  # the near copies within the radius really were found


@pytest.mark.parametrize("radius", [0, 8, 31, 47])
def test_segment_reports_each_row_within_the_radius_once(radius: int) -> None:
    """The compiled probe: every (query, row) within the radius exactly once — rows reachable through
    several chunks included — equal to brute force, also when a batch is split across threads and when
    many rows share chunk values (near-duplicate clusters, duplicate rows)."""
    rng = np.random.default_rng(radius)
    base = rng.integers(0, 256, (60, 32), dtype=np.uint8)
    cluster = flip(np.repeat(base, 80, axis=0), rng.integers(0, 40, 4800), rng)
    hashes = np.concatenate([cluster, cluster[:300], rng.integers(0, 256, (5000, 32), dtype=np.uint8)])
    segment = build_segment(hashes, np.arange(len(hashes)), np.full(len(hashes), 90, np.uint8))
    queries = flip(hashes[rng.choice(len(hashes), 150)], rng.integers(0, radius + 1, 150), rng)
    with mock.patch.object(mih_search, "BLOCK_QUERIES", 16):
        found = list(mih_search.search_segment(segment, queries, radius))
    got = sorted(zip(*(np.concatenate(part).tolist() for part in zip(*found, strict=True)), strict=True))
    want = sorted(
        (int(qn), int(row), int(d))
        for qn, rows, dists in mih_search.brute(queries, segment.words, radius)
        for qn, row, d in zip(qn, rows, dists, strict=True)
    )
    assert got == want
    assert len({(qn, row) for qn, row, _ in got}) == len(got)
    assert len(got) > len(queries)  # each query's own row, and its duplicates and cluster neighbours


def test_kernel_cache_goes_somewhere_writable(tmp_path: Path) -> None:
    """numba refuses to compile a cached function when it has nowhere to write: an install whose folder
    is read-only, for an account without a writable home, still gets a cache folder (the tests run as
    root, for whom nothing is read-only, so which folders are writable is passed in)."""
    from vigil.index import kernel

    site, home = tmp_path / "site", tmp_path / "home"
    read_only = {site, home / ".cache" / "vigil" / "numba"}

    def writable(path: Path) -> bool:
        return path not in read_only

    assert kernel.cache_dir(tmp_path, {}, writable) is None  # numba's default, beside the module
    assert kernel.cache_dir(site, {"NUMBA_CACHE_DIR": "/chosen"}, writable) is None
    xdg = kernel.cache_dir(site, {"XDG_CACHE_HOME": str(tmp_path / "xdg")}, writable)
    assert xdg == str(tmp_path / "xdg" / "vigil" / "numba") and Path(xdg).is_dir()
    fallback = kernel.cache_dir(site, {"HOME": str(home)}, writable)
    assert fallback is not None and Path(fallback).parent == Path(tempfile.gettempdir())
    assert Path(fallback).is_dir()
