"""items.jsonl: the scan's journal and its primary output, one JSON object per line."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from vigil.core import names
from vigil.core.fsio import atomic_write
from vigil.core.records import ItemRecord
from vigil.sources import locator


def encode(record: ItemRecord) -> str:
    """One items.jsonl line. A path that is not valid UTF-8 is written in its display form with its raw
    bytes in path_b64 (`ItemRecord.as_json`), so the line is always valid UTF-8."""
    return json.dumps(record.as_json(), ensure_ascii=False, separators=(",", ":")) + "\n"


def recover(path: Path, tops: set[str] | None = None) -> set[str]:
    """Paths already done in an interrupted scan's journal. A torn last line is cut off; with `tops`
    (the evidence files of the scan), the records of a container whose own record is missing — written
    before the kill, while the container was still being gone through — are dropped, so the container
    is done again from the start and nothing appears twice."""
    done: set[str] = set()
    if not path.exists():
        return done
    good = 0
    paths: list[str] = []
    with open(path, "rb") as fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                break
            try:
                paths.append(names.from_fields(json.loads(raw)))
            except (ValueError, KeyError):
                break
            good += len(raw)
    if good != path.stat().st_size:
        with open(path, "r+b") as fh:
            fh.truncate(good)
    done = set(paths)
    if tops is None:
        return done
    orphans = {p for p in paths if p not in tops and (t := top_of(p, tops)) is not None and t not in done}
    if orphans:
        _rewrite_without(path, orphans)
        done -= orphans
    return done


def top_of(path: str, tops: set[str]) -> str | None:
    """The evidence file a member path (``top!/inner!/...``) belongs to, if it is one of `tops`."""
    layers = locator.split(path)
    for depth in range(1, len(layers)):
        outer = locator.join(*layers[:depth])
        if outer in tops:
            return outer
    return None


def _rewrite_without(path: Path, drop: set[str]) -> None:
    with atomic_write(path) as out, open(path, encoding="utf-8") as fh:
        for line in fh:
            if names.from_fields(json.loads(line)) not in drop:
                out.write(line)


def read(path: Path) -> Iterator[ItemRecord]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield ItemRecord.from_json(json.loads(line))


class Writer:
    """Appends records; each is handed to the OS within `flush_every` records (a killed process loses
    only lines not yet flushed, which --resume then redoes) and fsynced on close."""

    def __init__(self, path: Path, flush_every: int = 64) -> None:
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in __exit__
        self._every = flush_every
        self._pending = 0

    def write(self, record: ItemRecord) -> None:
        self.write_group([record])

    def write_group(self, records: list[ItemRecord], part: str | None = None) -> None:
        """One evidence file's records: those spilled to the `part` file (if any), then `records` (which
        end with the file's own record). A kill part-way leaves a group without its own record, which
        `recover` drops."""
        if part is not None:
            with open(part, encoding="utf-8") as fh:
                while chunk := fh.read(1 << 20):
                    self._fh.write(chunk)
        self._fh.write("".join(encode(r) for r in records))
        self._pending += len(records)
        if part is not None or self._pending >= self._every:
            self._fh.flush()
            self._pending = 0

    def __enter__(self) -> Writer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()


def write_json_atomic(path: Path, data: Any) -> None:
    with atomic_write(path) as fh:
        json.dump(data, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
