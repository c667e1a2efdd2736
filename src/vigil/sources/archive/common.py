"""What every archive reader shares: names that would escape an extraction folder, the bomb arithmetic
(a member's ratio, a container's expansion budget) and the metered stream that charges every byte read."""

from __future__ import annotations

import contextlib
import io
import lzma
import os
import tarfile
import zipfile
import zlib
from typing import Any, BinaryIO

from vigil.sources.base import ContainerError, LimitExceeded, Limits

SLACK = 1 << 20  # tiny archives may legitimately expand far beyond the ratio (a 1 KB file of zeros)
# What the standard library's readers raise on corrupt or truncated data (besides OSError).
CORRUPT = (EOFError, ValueError, zlib.error, lzma.LZMAError, zipfile.BadZipFile, tarfile.TarError)


def unsafe_name(name: str) -> str | None:
    """Why a member name would escape an extraction folder, or None when it would not."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return f"absolute member name {name!r} (not extracted; hashed in place)"
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        return f"member name {name!r} climbs out of the archive (not extracted; hashed in place)"
    return None


def ratio_problem(name: str, expanded: int, stored: int, limits: Limits) -> str | None:
    if expanded > limits.max_member:
        return f"member of {expanded:,} bytes is over the size limit ({limits.max_member:,})"
    if expanded > SLACK and expanded > limits.max_ratio * max(stored, 1):
        return (
            f"expansion ratio {expanded / max(stored, 1):,.0f}:1 is over the limit "
            f"{limits.max_ratio:,.0f}:1 (a decompression bomb?)"
        )
    return None


class Budget:
    """Bytes expanded out of one container so far, against its limits (total and ratio to its size)."""

    def __init__(self, limits: Limits, stored: int) -> None:
        self.limits = limits
        self.stored = stored
        self.expanded = 0

    def charge(self, n: int) -> None:
        self.expanded += n
        if self.expanded > self.limits.max_total:
            raise LimitExceeded(f"over the container expansion limit ({self.limits.max_total:,} bytes)")
        if self.expanded > SLACK and self.expanded > self.limits.max_ratio * max(self.stored, 1):
            raise LimitExceeded(
                f"archive expands more than {self.limits.max_ratio:,.0f}:1 (a decompression bomb?)"
            )


class Metered(io.RawIOBase):
    """A read-only view of a stream that charges every byte to a Budget and stops at `cap` bytes."""

    def __init__(self, inner: BinaryIO, budget: Budget, cap: int | None = None) -> None:
        self.inner = inner
        self.budget = budget
        self.cap = cap
        self.read_so_far = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        try:
            data = self.inner.read(len(view))
        except CORRUPT as exc:
            raise ContainerError(f"corrupt member data: {exc}") from None
        n = len(data)
        view[:n] = data
        self.read_so_far += n
        if self.cap is not None and self.read_so_far > self.cap:
            raise LimitExceeded(f"member expands beyond {self.cap:,} bytes")
        self.budget.charge(n)
        return n

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.inner.close()
        super().close()


def metered(inner: BinaryIO, budget: Budget, cap: int | None = None) -> BinaryIO:
    """`inner` behind a `Metered` view, buffered (reads of 1 MiB)."""
    return io.BufferedReader(Metered(inner, budget, cap), 1 << 20)  # type: ignore[return-value]


def stream_size(stream: BinaryIO) -> int:
    pos = stream.tell()
    end = stream.seek(0, os.SEEK_END)
    stream.seek(pos)
    return end
