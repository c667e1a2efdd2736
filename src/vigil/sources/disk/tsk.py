"""The Sleuth Kit glue: a pytsk3 image whose reads are served by a `Source`, the lock that serialises
every TSK call of one image, and the stream that reads one attribute of a TSK file in chunks."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

import pytsk3  # type: ignore[import-untyped]

from vigil.sources.disk.image import Source
from vigil.sources.disk.text import reason

READ_CHUNK = 1 << 20  # buffer of a member stream: big reads keep the per-call overhead of TSK low


class Guard:
    """The lock serialising every TSK call of one image, and its closed state."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.closed = False

    def check(self) -> None:
        if self.closed:
            raise OSError("disk image already closed")


class TskImage(pytsk3.Img_Info):  # type: ignore[misc]
    """A TSK image whose reads are served by a `Source` (TSK's "external" image type). Going through
    Python for every image type keeps one code path for plain files, split parts, EWF and streams
    nested in archives, and lets `close()` make later reads fail cleanly instead of touching freed C
    memory."""

    def __init__(self, source: Source, guard: Guard) -> None:
        self._source = source
        self._guard = guard
        super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

    def read(self, offset: int, size: int) -> bytes:
        self._guard.check()
        return self._source.read(offset, size)

    def get_size(self) -> int:
        return self._source.size

    def close(self) -> None:
        """TSK calls this when it is done; the source is closed by `DiskImage.close`."""


class TskFileReader(io.RawIOBase):
    """A read-only, seekable stream over one attribute of a TSK file (`read_random`), so a large file is
    hashed in chunks without ever being held in memory or written out."""

    def __init__(self, fs_file: Any, size: int, attr_type: int, attr_id: int, guard: Guard) -> None:
        super().__init__()
        self._file = fs_file
        self._size = size
        self._type = attr_type
        self._id = attr_id
        self._guard = guard
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self._size + offset
        else:
            raise ValueError(f"invalid whence: {whence}")
        if pos < 0:
            raise ValueError("negative seek position")
        self._pos = pos
        return pos

    def readinto(self, buffer: Any) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._size - self._pos)
        if want <= 0:
            return 0
        with self._guard.lock:
            self._guard.check()
            try:
                data = self._file.read_random(self._pos, want, self._type, self._id)
            except Exception as exc:  # pytsk3 raises OSError, RuntimeError, ... on damaged data
                raise OSError(f"read error at offset {self._pos}: {reason(exc)}") from exc
        if not data:
            raise OSError(f"no data at offset {self._pos} of {self._size} (damaged or truncated image)")
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)


def opener(fs_file: Any, size: int, attr_type: int, attr_id: int, guard: Guard) -> Callable[[], BinaryIO]:
    """A `Member.open` for one attribute of a TSK file: each call gives a fresh buffered stream."""

    def open_member() -> BinaryIO:
        raw = TskFileReader(fs_file, size, attr_type, attr_id, guard)
        return io.BufferedReader(raw, buffer_size=READ_CHUNK)

    return open_member
