"""Run a scan: walk the evidence, hash and match in a process pool, journal every result, then report.

`items.jsonl` is the journal: a result counts as done once its line is written, so `--resume` after a
crash or kill re-reads it, drops a torn last line, and hashes only what is missing. The summary, the
store's scan records and the reports are all derived from the journal at the end.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vigil import signals
from vigil.config import Settings
from vigil.core import names
from vigil.core.errors import VigilError
from vigil.core.records import ItemRecord
from vigil.match.matcher import Matcher
from vigil.media import DecodeLimits
from vigil.scan import journal
from vigil.scan.progress import ScanProgress
from vigil.scan.summary import build_summary
from vigil.scan.walker import Item, Skipped, Unreadable, walk
from vigil.scan.worker import TaskResult, WorkerConfig, empty_record, init, process, run_task, shardable
from vigil.sources import Limits
from vigil.store import Store
from vigil.store.scans import record_scan

FLUSH_EVERY = 64


@dataclass(slots=True)
class ScanOptions:
    evidence: list[str]
    out: Path
    workers: int = 0
    perceptual: bool = True
    resume: bool = False
    case: str | None = None
    limits: DecodeLimits = field(default_factory=DecodeLimits)
    pdq_threshold: int | None = None
    pdq_min_quality: int | None = None
    progress: bool | None = None  # None: only when stderr is a terminal
    containers: Limits = field(default_factory=Limits)
    shard_bytes: int = 64 << 20  # disk images and zips larger than this are split over the workers

    @classmethod
    def from_settings(cls, settings: Settings, evidence: list[str], out: Path, **chosen: Any) -> ScanOptions:
        """Options from the settings (VIGIL_* variables), with `chosen` ones (workers, case, ...) on top."""
        s = settings
        base: dict[str, Any] = {
            "workers": s.workers,
            "limits": DecodeLimits(s.max_image_pixels, s.decode_size),
            "pdq_threshold": s.pdq_threshold,
            "pdq_min_quality": s.pdq_min_quality,
            "containers": Limits(
                max_depth=s.max_depth,
                max_ratio=s.max_ratio,
                max_members=s.max_members,
                file_seconds=s.file_seconds,
            ),
            "shard_bytes": s.shard_bytes,
        }
        return cls(evidence=list(evidence), out=out, **{**base, **chosen})


def run_scan(store: Store, options: ScanOptions) -> dict[str, Any]:
    """Scan: items.jsonl, summary.json and the store's scan records; returns the summary. The reports a
    person reads are `vigil.report.write_reports`' (the CLI writes them after the scan)."""
    out = options.out.resolve()
    _check_paths(options.evidence, out)
    out.mkdir(parents=True, exist_ok=True)
    items_path = out / "items.jsonl"
    if items_path.exists() and not options.resume:
        raise VigilError(f"{out} already holds a scan; use --resume to continue it or choose another --out")
    started = datetime.now(UTC)
    t0 = time.monotonic()
    everything = list(walk(options.evidence))
    tops = {f.path for f in everything if isinstance(f, Item)}
    done = journal.recover(items_path, tops) if options.resume else set()
    todo: list[Item] = []
    skipped: list[dict[str, str]] = []
    unreadable: list[ItemRecord] = []
    for found in everything:
        if isinstance(found, Skipped):
            skipped.append({**names.to_fields(found.path), "reason": names.display(found.reason)})
        elif isinstance(found, Unreadable):
            if found.path not in done:
                unreadable.append(empty_record(found.path, None, error=found.reason))
        elif found.path not in done:
            todo.append(found)
    walk_s = time.monotonic() - t0

    matcher = Matcher.from_store(
        store, pdq_threshold=options.pdq_threshold, pdq_min_quality=options.pdq_min_quality
    )
    spill = out / ".spill"  # members too big for memory, while they are looked into; emptied at the end
    shutil.rmtree(spill, ignore_errors=True)
    spill.mkdir()
    config = WorkerConfig(
        options.limits, options.perceptual, replace(options.containers, spill_dir=str(spill))
    )
    workers = options.workers or os.cpu_count() or 1
    show = sys.stderr.isatty() if options.progress is None else options.progress
    tasks = _shard(todo, workers, options.shard_bytes)

    t1 = time.monotonic()
    try:
        _journal(items_path, unreadable, _results(tasks, config, matcher, workers), show, len(todo))
    finally:  # a scan stopped part-way leaves no spill behind either (--resume starts it afresh)
        shutil.rmtree(spill, ignore_errors=True)
    hash_s = time.monotonic() - t1

    summary = build_summary(
        items_path,
        evidence=options.evidence,
        skipped=skipped,
        started=started,
        finished=datetime.now(UTC),
        timings={"walk_s": walk_s, "hash_s": hash_s},
        settings={
            "perceptual": options.perceptual,
            "workers": workers,
            "pdq_threshold": matcher.thresholds.get("pdq"),
            "pdq_min_quality": matcher.min_quality.get("pdq"),
            "max_image_pixels": options.limits.max_pixels,
            "decode_size": options.limits.decode_size,
            "resumed": options.resume,
            "shard_bytes": options.shard_bytes,
            "split_containers": len({t.path for t in tasks if t.shard is not None}),
        },
        store=store,
        case=options.case,
    )
    # What relative evidence paths are relative to (the review app needs it); cwd_b64 if not UTF-8.
    summary.update(names.to_fields(os.getcwd(), "cwd"))
    rows = (scan_item_row(record) for record in journal.read(items_path))
    evidence = [names.display(e) for e in options.evidence]
    summary["scan_id"] = record_scan(store, evidence, out, rows, summary, case=options.case)
    journal.write_json_atomic(out / "summary.json", summary)
    return summary


def _journal(
    items_path: Path, unreadable: list[ItemRecord], results: Iterator[TaskResult], show: bool, total: int
) -> None:
    """Append the unreadable files' records, then each evidence file's as its results come back."""
    with journal.Writer(items_path, FLUSH_EVERY) as writer, ScanProgress(show, total) as bar:
        for record in unreadable:
            writer.write(record)
        for parts in _gather(results):
            for part in parts:  # one evidence file and all it contains, its own record last
                writer.write_group(part.records, part.part)
                if part.part is not None:
                    os.unlink(part.part)
            bar.advance(parts[-1].item.size or 0)


def _shard(todo: list[Item], workers: int, threshold: int) -> list[Item]:
    """Split each big random-access container (disk image, large zip) over the workers, so one E01
    does not leave the other cores idle; everything else is one task per file."""
    if workers <= 1:
        return todo
    tasks: list[Item] = []
    for item in todo:
        if shardable(item.fs_path, item.size, threshold):
            tasks += [replace(item, shard=(k, workers)) for k in range(workers)]
        else:
            tasks.append(item)
    return tasks


def _gather(results: Iterator[TaskResult]) -> Iterator[list[TaskResult]]:
    """The results of one evidence file together: the shards of a split container are held until all
    have come back, and shard 0 (which ends with the container's own record) goes last."""
    pending: dict[str, list[TaskResult]] = {}
    for result in results:
        shard = result.item.shard
        if shard is None:
            yield [result]
            continue
        parts = pending.setdefault(result.item.path, [])
        parts.append(result)
        if len(parts) == shard[1]:
            del pending[result.item.path]
            yield sorted(parts, key=lambda p: -(p.item.shard or (0, 0))[0])


def _results(todo: list[Item], config: WorkerConfig, matcher: Matcher, workers: int) -> Iterator[TaskResult]:
    if workers <= 1 or len(todo) < 2:
        for item in todo:
            yield run_task(item, config, matcher)
        return
    ctx = multiprocessing.get_context("fork")
    pool = ctx.Pool(workers, initializer=init, initargs=(config, matcher))
    try:
        # Shards of a big container are long tasks: hand them out one at a time.
        chunks = 1 if any(item.shard for item in todo) else 4
        yield from pool.imap_unordered(process, todo, chunksize=chunks)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def _check_paths(evidence: Iterable[str], out: Path) -> None:
    for root in evidence:
        if not os.path.lexists(root):
            raise VigilError(f"evidence not found: {root}")
        real = Path(root).resolve()
        if out == real or real in out.parents:
            raise VigilError(f"--out {out} is inside the evidence {root}; vigil never writes to evidence")


def scan_item_row(record: ItemRecord) -> dict[str, Any]:
    """A journal record as the store's `scan_item` row (without its scan id)."""
    return {
        "path": names.display(record.path),  # the display form only: the raw bytes are in items.jsonl
        "size": record.size,
        "media_type": record.media_type,
        "hashes": {s.name: record.hashes[s.name] for s in signals.all_signals() if record.hashes.get(s.name)},
        "quality": {
            s.name: record.quality[s.name]
            for s in signals.image_signals()
            if record.quality.get(s.name) is not None
        }
        or None,
        "status": record.status,
        "error": record.error,
        "verdict": record.verdict,
        "matches": record.matches or None,
    }
