"""Turn one evidence file into its result records. Runs in worker processes; touches no database.

A file that is a container (archive, disk image) is looked into: each member becomes a record of its own,
named ``outer!/inner``, and members that are containers are looked into in turn, down to
`Limits.max_depth`. The records of one evidence file come back together, the file's own record last, and
are written to the journal in one piece, so `--resume` after a kill never finds half a container.

The per-process state (limits and the store snapshot) is set once by `init()`; with the fork start
method the snapshot is shared copy-on-write with the parent.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from vigil import signals, sources
from vigil.core.fsio import open_readonly
from vigil.core.records import ItemRecord
from vigil.hashing import FileHashes, hash_stream
from vigil.match import Matcher, verdict
from vigil.media import DecodeLimits, is_video, sniff
from vigil.scan import journal
from vigil.scan.walker import Item
from vigil.sources import ContainerError, Entry, LimitExceeded, Limits, Member, Problem, Spill, locator


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    limits: DecodeLimits
    perceptual: bool
    containers: Limits = field(default_factory=Limits)


_state: tuple[WorkerConfig, Matcher] | None = None


def init(config: WorkerConfig, matcher: Matcher) -> None:
    global _state
    _state = (config, matcher)


@dataclass(slots=True)
class TaskResult:
    """One task's records: the first ones spilled to `part` (a JSON-lines file in the spill folder) once
    there are more than `Sink.KEEP` of them, the rest in `records`; in that order, own record last."""

    item: Item
    records: list[ItemRecord]
    part: str | None = None


class Sink:
    """Collects a task's records, keeping memory bounded for containers with millions of files."""

    KEEP = 5000

    def __init__(self, spill_dir: str | None) -> None:
        self.spill_dir = spill_dir
        self.records: list[ItemRecord] = []
        self.part: str | None = None
        self._fh: Any = None

    def append(self, record: ItemRecord) -> None:
        self.records.append(record)
        if len(self.records) >= self.KEEP and self.spill_dir is not None:
            if self._fh is None:
                fd, self.part = tempfile.mkstemp(prefix="part-", suffix=".jsonl", dir=self.spill_dir)
                self._fh = os.fdopen(fd, "w", encoding="utf-8")
            self._fh.write("".join(journal.encode(r) for r in self.records))
            self.records = []

    def result(self, item: Item) -> TaskResult:
        if self._fh is not None:
            self._fh.close()
        return TaskResult(item, self.records, self.part)


def process(item: Item) -> TaskResult:
    assert _state is not None, "worker used before init()"  # programming error, not input
    config, matcher = _state
    return run_task(item, config, matcher)


def run_task(item: Item, config: WorkerConfig, matcher: Matcher) -> TaskResult:
    """The records of one evidence file: those of everything inside it, then its own. A shard other
    than the first lists the container but hashes only its share of the members, and no own record."""
    sink = Sink(config.containers.spill_dir)

    def open_file() -> BinaryIO:
        return os.fdopen(open_readonly(item.fs_path), "rb", buffering=0)

    hasher = _Hasher(config, matcher, sink, item.shard, max(item.size or 0, 0))
    if item.shard is not None and item.shard[0] > 0:
        hasher.members_only(item.path, item.deleted, item.fs_path)
    else:
        sink.append(
            hasher.item(item.path, item.size, item.deleted, open_file, depth=0, real_path=item.fs_path)
        )
    return sink.result(item)


def process_with(item: Item, config: WorkerConfig, matcher: Matcher) -> list[ItemRecord]:
    """`run_task` with every record in memory (for callers that want a list)."""
    result = run_task(item, config, matcher)
    if result.part is None:
        return result.records
    with open(result.part, encoding="utf-8") as fh:
        spilled = [ItemRecord.from_json(json.loads(line)) for line in fh]
    os.unlink(result.part)
    return spilled + result.records


def shardable(path: str, size: int, threshold: int) -> bool:
    """Containers worth splitting over workers: big, and readable member by member in any order."""
    if size < threshold:
        return False
    try:
        kind = sources.detect(_head(path), path)
    except OSError:
        return False
    return kind is not None and kind.random_access


class _Hasher:
    def __init__(
        self,
        config: WorkerConfig,
        matcher: Matcher,
        out: Sink,
        shard: tuple[int, int] | None = None,
        container_size: int = 0,
    ) -> None:
        self.config = config
        self.matcher = matcher
        self.out = out
        self.limits = config.containers
        self.shard = shard  # applies to the top-level container's own members only
        self.container_size = container_size  # the top-level container's (shard 0 also hashes it)

    def members_only(self, path: str, deleted: bool, real_path: str) -> None:
        """This shard's members of a top-level container, without hashing the container itself."""
        kind = sources.detect(_head(real_path), path)
        if kind is None:
            return
        scratch = empty_record(path, None, deleted)
        with _open_evidence(real_path) as stream:
            self._expand(kind, stream, path, real_path, 0, deleted, scratch)

    def item(
        self,
        path: str,
        size: int | None,
        deleted: bool,
        open_stream: Callable[[], BinaryIO],
        *,
        depth: int,
        real_path: str | None = None,
        warning: str | None = None,
    ) -> ItemRecord:
        """Hash one file or member (and look into it if it is a container); return its record."""
        record = empty_record(path, size if size is not None and size >= 0 else None, deleted)
        spill = _Spill(self.limits)
        try:
            with _deadline(self.limits.file_seconds), open_stream() as fh:
                hashes = hash_stream(
                    fh,
                    path,
                    self.config.limits,
                    perceptual=self.config.perceptual,
                    skip_decode=self.matcher.is_known_good,
                    reopen=(lambda: _open_evidence(real_path)) if real_path else spill.reader,
                    tee=None if real_path else spill.feed,
                )
        except OSError as exc:
            record.error = f"cannot read: {exc.strerror or exc}"
            spill.close()
            return record
        except (LimitExceeded, TimeoutError) as exc:
            record.error = str(exc)
            spill.close()
            return record
        except Exception as exc:  # a decoder's own exception type: the item fails, the scan goes on
            record.error = f"cannot read: {type(exc).__name__}: {exc}"
            spill.close()
            return record
        self._fill(record, hashes, warning)
        try:
            kind = sources.detect(hashes.head, path)
            if kind is not None and record.verdict != "known_good":
                if depth >= self.limits.max_depth:
                    record.fail(f"{kind.kind} nested deeper than {self.limits.max_depth} levels (not opened)")
                else:
                    stream = open(real_path, "rb") if real_path else spill.reader()  # noqa: SIM115
                    with stream:
                        self._expand(kind, stream, path, real_path, depth, deleted, record)
        finally:
            spill.close()
        return record

    def _expand(
        self,
        kind: type[sources.Container],
        stream: BinaryIO,
        path: str,
        real_path: str | None,
        depth: int,
        deleted: bool,
        record: ItemRecord,
    ) -> None:
        container = kind(stream, path, self.limits, real_path)
        share = _Share(self.shard, self.container_size) if depth == 0 and self.shard else None
        try:
            for entry in container.entries():
                if share is not None and not share.mine(entry):
                    continue
                child = locator.join(path, entry.name)
                if isinstance(entry, Problem):
                    self.out.append(
                        empty_record(child, entry.size, deleted or entry.deleted, error=entry.reason)
                    )
                    continue
                assert isinstance(entry, Member)
                self.out.append(
                    self.item(
                        child,
                        entry.size,
                        deleted or entry.deleted,
                        entry.open,
                        depth=depth + 1,
                        warning=entry.warning,
                    )
                )
        except (ContainerError, LimitExceeded) as exc:
            record.fail(str(exc))
        except Exception as exc:  # a library's own exception on hostile input: reported, never fatal
            record.fail(f"cannot read {kind.kind}: {type(exc).__name__}: {exc}")
        finally:
            container.close()

    def _fill(self, record: ItemRecord, hashes: FileHashes, warning: str | None) -> None:
        fields = hashes.as_fields()
        record.size = fields["size"]
        for sig in signals.all_signals():
            record.hashes[sig.name] = fields[sig.name]
            if sig.kind == "image":
                record.quality[sig.name] = fields[f"{sig.name}_quality"]
        record.media_type = fields["media_type"]
        matches = self.matcher.match(hashes)
        error = hashes.error or warning
        record.status = "error" if error else "ok"
        record.error = error
        record.verdict = verdict(matches, hashes.error is not None)
        record.matches = [m.as_dict() for m in matches]


class _Share:
    """Which members of a split container this shard hashes. Every shard lists the same members in the
    same order and hands each to the shard with the fewest bytes so far (ties to the lowest number);
    shard 0 starts with the container's own size, since it also hashes the container itself. So each
    member is hashed by exactly one shard, and a disk image's own hash no longer leaves shard 0 with
    half the members on top (with two workers it does the image, the other the files)."""

    PER_MEMBER = 64 << 10  # a member's fixed cost (open, look-up, record), in bytes of hashing

    def __init__(self, shard: tuple[int, int], container_size: int) -> None:
        self.me, count = shard
        self.loads = [0] * count
        self.loads[0] = container_size

    def mine(self, entry: Entry) -> bool:
        cost = self.PER_MEMBER + (max(entry.size, 0) if isinstance(entry, Member) else 0)
        least = min(range(len(self.loads)), key=self.loads.__getitem__)
        self.loads[least] += cost
        return least == self.me


def _open_evidence(path: str) -> BinaryIO:
    return os.fdopen(open_readonly(path), "rb")


def _head(path: str) -> bytes:
    with _open_evidence(path) as fh:
        return fh.read(sources.HEAD_BYTES)


class _Spill(Spill):
    """Keeps the bytes of a member that turns out to be a container or a video (opened or decoded
    again after hashing); anything else passes through without being kept."""

    def __init__(self, limits: Limits) -> None:
        super().__init__(limits)
        self.active: bool | None = None

    def feed(self, chunk: bytes) -> None:
        if self.active is None:
            head = chunk[: sources.HEAD_BYTES]
            self.active = sources.detect(head, "") is not None or is_video(sniff(head))
        if self.active:
            self.write(chunk)

    def reader(self) -> BinaryIO:
        if not self.active:
            raise OSError("the member's bytes were not kept")
        return super().reader()


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise TimeoutError in this (main) thread when one file takes longer than its budget."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_sig: int, _frame: object) -> None:
        raise TimeoutError(f"took longer than the {seconds:g} s budget for one file")

    previous = signal.signal(signal.SIGALRM, expire)
    remaining = signal.setitimer(signal.ITIMER_REAL, seconds)[0]
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, remaining)
        signal.signal(signal.SIGALRM, previous)


def empty_record(path: str, size: int | None, deleted: bool = False, error: str | None = None) -> ItemRecord:
    """The record of an item not hashed (yet): every signal present, none computed, verdict error."""
    return ItemRecord(
        path,
        size,
        hashes={sig.name: None for sig in signals.all_signals()},
        quality={sig.name: None for sig in signals.image_signals()},
        deleted=deleted,
        error=error,
    )
