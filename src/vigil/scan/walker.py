"""The folder source: every regular file below the evidence roots, in a stable order.

Symbolic links are never followed (a link's target inside the evidence is scanned in its own place);
links, sockets, FIFOs and device nodes are listed as skipped with the reason. A directory that cannot be
read becomes an error item, so the report shows what was not examined.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Item:
    """A file to hash: `path` is how reports name it, `fs_path` where it is opened (read-only).

    `shard` = (k, n): a big container whose members are split over n workers; this task hashes the
    members numbered k, k+n, ... (and, for k = 0, the file itself)."""

    path: str
    fs_path: str
    size: int
    deleted: bool = False
    shard: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Skipped:
    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class Unreadable:
    path: str
    reason: str


Found = Item | Skipped | Unreadable


def walk(roots: list[str]) -> Iterator[Found]:
    for root in roots:
        try:
            st = os.lstat(root)
        except OSError as exc:
            yield Unreadable(root, exc.strerror or str(exc))
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(root)
        else:
            yield _classify(root, st)


def _walk_dir(directory: str) -> Iterator[Found]:
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        yield Unreadable(directory, f"cannot list directory: {exc.strerror or exc}")
        return
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError as exc:
            yield Unreadable(entry.path, exc.strerror or str(exc))
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(entry.path)
        else:
            yield _classify(entry.path, st)


def _classify(path: str, st: os.stat_result) -> Found:
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return Item(path, path, st.st_size)
    if stat.S_ISLNK(mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        return Skipped(path, f"symbolic link to {target} (not followed)")
    kind = (
        "socket"
        if stat.S_ISSOCK(mode)
        else "FIFO"
        if stat.S_ISFIFO(mode)
        else "block device"
        if stat.S_ISBLK(mode)
        else "character device"
        if stat.S_ISCHR(mode)
        else "special file"
    )
    return Skipped(path, f"{kind} (not read)")
