"""Files: evidence opened read-only, and the one way vigil writes a file it may be asked for later.

`atomic_write` writes to a temporary file beside the target, flushes it to disk and renames it into place,
so a reader (or a court) sees the old file or the whole new one, never half of one, even after a crash.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any


def open_readonly(path: str) -> int:
    """Open evidence read-only, never following a final symlink, without touching atime where allowed."""
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        return os.open(path, flags | getattr(os, "O_NOATIME", 0))
    except PermissionError:
        return os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.EINVAL:
            return os.open(path, flags)
        raise


@contextmanager
def atomic_write(
    path: Path,
    mode: str = "w",
    *,
    newline: str | None = None,
    suffix: str = ".tmp",
    prefix: str | None = None,
    perms: int | None = None,
    sync_dir: bool = False,
) -> Iterator[IO[Any]]:
    """Yield a file to write `path` through: a temporary file in the same folder, named `prefix` (default
    ``.NAME.``) + random + `suffix`, fsynced and renamed over `path` when the block ends without an
    exception, removed when it raises. The file is private (0600, as mkstemp makes it) unless `perms` says
    otherwise; with `sync_dir` the folder is fsynced too, so the rename itself survives a crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix or f".{path.name}.", suffix=suffix, dir=path.parent)
    try:
        if perms is not None:
            os.fchmod(fd, perms)
        if "b" in mode:
            fh: IO[Any] = os.fdopen(fd, mode)
        else:
            fh = os.fdopen(fd, mode, encoding="utf-8", newline=newline)
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if sync_dir:
        fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (new and renamed files in it) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_write(path) as fh:
        fh.write(text)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    with atomic_write(path, "wb") as fh:
        fh.write(data)
