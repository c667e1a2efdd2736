"""items.jsonl: the scan's journal and its primary output, one JSON object per line."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any


def recover(path: Path) -> set[str]:
    """Paths already done in an interrupted scan's journal; a torn last line is cut off."""
    done: set[str] = set()
    if not path.exists():
        return done
    good = 0
    with open(path, "rb") as fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                break
            try:
                done.add(json.loads(raw)["path"])
            except (ValueError, KeyError):
                break
            good += len(raw)
    if good != path.stat().st_size:
        with open(path, "r+b") as fh:
            fh.truncate(good)
    return done


def read(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


class Writer:
    """Appends records; each is handed to the OS within `flush_every` records (a killed process loses
    only lines not yet flushed, which --resume then redoes) and fsynced on close."""

    def __init__(self, path: Path, flush_every: int = 64) -> None:
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in __exit__
        self._every = flush_every
        self._pending = 0

    def write(self, record: dict[str, Any]) -> None:
        self.write_group([record])

    def write_group(self, records: list[dict[str, Any]]) -> None:
        """Records that stand or fall together (a container and its members) reach the file in one write
        after everything before them, so a kill leaves the group whole or absent (a torn last line is
        cut off by `recover`)."""
        text = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)
        if len(records) > 1:
            self._fh.flush()
            self._fh.write(text)
            self._fh.flush()
            self._pending = 0
            return
        self._fh.write(text)
        self._pending += 1
        if self._pending >= self._every:
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
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
