"""The one interface every evidence container implements (archives, disk images, ...).

A container is opened from a read-only, seekable binary stream (a file of the evidence, or a member of
another container spilled to a bounded temporary file inside the scan's --out folder). It lists what it
holds as `Member`s (a file whose bytes can be opened) and `Problem`s (something that is there but cannot
be read, with the reason: "encrypted", "over the expansion limit", "corrupt partition table", ...).
The scanner turns members into items named ``outer!/inner`` (DESIGN.md §5), hashes them, and looks into
members that are containers themselves, up to `Limits.max_depth`.

Adding a container type is one module with a `Container` subclass registered in `vigil.sources`.
Nothing here writes anywhere; nothing follows links; every byte comes through `Member.open()`.
"""

from __future__ import annotations

import io
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, ClassVar


@dataclass(frozen=True, slots=True)
class Limits:
    """What a container may cost before its contents become error items instead of work."""

    max_depth: int = 4  # containers inside containers (a file in the evidence is depth 0)
    max_members: int = 1_000_000  # members listed per container
    max_ratio: float = 200.0  # expanded size / stored size of one member, or of a whole archive
    max_total: int = 1 << 40  # bytes expanded out of one container, all members together (1 TiB)
    max_member: int = 1 << 36  # bytes of one member (64 GiB)
    spill_memory: int = 64 << 20  # members up to this size are held in memory when looked into
    file_seconds: float = 300.0  # time budget for one file (hashing and decoding)
    spill_dir: str | None = None  # where members too big for memory are spilled (inside the scan's --out)


class LimitExceeded(Exception):
    """Raised while reading a member when a limit is crossed; the member becomes an error item."""


@dataclass(frozen=True, slots=True)
class Member:
    """A file inside a container. `name` is its path inside ('/'-separated, as stored: never cleaned up,
    so `../x` stays visible); `open()` returns a fresh read-only binary stream of its bytes."""

    name: str
    size: int
    open: Callable[[], BinaryIO]
    deleted: bool = False
    # A reason to report alongside the hashes (e.g. an unsafe name); the member is still hashed.
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """Something in a container that cannot be read; reported as an error item with the reason."""

    name: str
    reason: str
    size: int | None = None
    deleted: bool = False


Entry = Member | Problem


class Container(ABC):
    """A readable container. Subclasses set `kind` and implement `detect` and `entries`."""

    kind: ClassVar[str]
    # Members can be read in any order by several processes opening the container independently
    # (so the scanner may split a big one over its workers).
    random_access: ClassVar[bool] = False

    def __init__(self, stream: BinaryIO, name: str, limits: Limits, path: str | None = None) -> None:
        # `path` is the file's real path when the container is a file of the evidence itself (formats
        # split over several files, like E01 segments or .001/.002 raw images, need it); else None.
        self.stream = stream
        self.name = name
        self.limits = limits
        self.path = path

    @classmethod
    @abstractmethod
    def detect(cls, head: bytes, name: str) -> bool:
        """True when a file starting with `head` (at least 4 KiB, or the whole file) and called `name`
        is of this kind. Cheap: no parsing beyond magic numbers."""

    @abstractmethod
    def entries(self) -> Iterator[Entry]:
        """Every member and problem, in a stable order. Raise ContainerError when the container as a
        whole cannot be read (the containing item becomes an error item with that reason)."""

    def close(self) -> None:  # noqa: B027 (most containers hold nothing beyond the caller's stream)
        """Release what `entries` opened (not the stream, which belongs to the caller)."""


class Spill:
    """Bytes kept for a second read: in memory up to `Limits.spill_memory`, then in an anonymous
    temporary file in `Limits.spill_dir` (inside the scan's --out), never more than `cap` bytes."""

    def __init__(self, limits: Limits, cap: int | None = None) -> None:
        self.limits = limits
        self.cap = cap
        self.buffer: BinaryIO = io.BytesIO()
        self.on_disk = False
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        n = len(data)
        self.size += n
        if self.cap is not None and self.size > self.cap:
            raise LimitExceeded(f"member expands beyond its declared {self.cap:,} bytes")
        if not self.on_disk and self.size > self.limits.spill_memory:
            spilled = tempfile.TemporaryFile(dir=self.limits.spill_dir)  # noqa: SIM115 - owned by the spill
            spilled.write(self.buffer.getvalue())  # type: ignore[attr-defined]
            self.buffer = spilled  # type: ignore[assignment]
            self.on_disk = True
        self.buffer.write(data)
        return n

    def reader(self) -> BinaryIO:
        """A fresh stream of the kept bytes from the start (closing it leaves the spill open)."""
        if self.on_disk:
            self.buffer.seek(0)
            return os.fdopen(os.dup(self.buffer.fileno()), "rb")
        return io.BytesIO(self.buffer.getvalue())  # type: ignore[attr-defined]

    def close(self) -> None:
        self.buffer.close()


class ContainerError(Exception):
    """The container cannot be read at all (corrupt, truncated, unsupported variant)."""
