"""7z archives read through py7zr (this module is imported only when a 7z archive turns up: py7zr costs
~80 ms to import).

Solid archives decompress front to back, so members are expanded in one pass into bounded spill buffers
(memory, then a temporary file in the scan's spill folder).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import py7zr
import py7zr.io

from vigil.sources.archive.common import SLACK, ratio_problem, stream_size, unsafe_name
from vigil.sources.base import ContainerError, Entry, LimitExceeded, Limits, Member, Problem, Spill


def entries(stream: BinaryIO, limits: Limits) -> Iterator[Entry]:
    """The members and problems of the 7z archive `stream` (`SevenZipArchive.entries`)."""
    try:
        sz = py7zr.SevenZipFile(stream, mode="r")
    except py7zr.PasswordRequired:
        raise ContainerError("encrypted (header encrypted; names not readable)") from None
    except (py7zr.Bad7zFile, OSError, EOFError, ValueError, KeyError) as exc:
        raise ContainerError(f"cannot read 7z archive: {exc}") from exc
    with sz:
        infos = [i for i in sz.list() if not i.is_directory]
        if len(infos) > limits.max_members:
            yield Problem("…", f"member limit reached ({limits.max_members:,}); not read")
            return
        stored = stream_size(stream)
        if sz.needs_password():
            for info in infos:
                yield Problem(info.filename, "encrypted", info.uncompressed)
            return
        wanted = []
        total = sum(i.uncompressed for i in infos)
        for info in infos:
            problem = ratio_problem(info.filename, info.uncompressed, stored, limits)
            if problem is None and total > max(limits.max_ratio * stored, SLACK):
                problem = f"archive expands {total / max(stored, 1):,.0f}:1, over the limit (a bomb?)"
            if problem:
                yield Problem(info.filename, problem, info.uncompressed)
            else:
                wanted.append(info)
        if not wanted:
            return
        factory = _SpillFactory(limits, {i.filename: i.uncompressed for i in wanted})
        try:
            sz.extract(targets=[i.filename for i in wanted], factory=factory)
        except (LimitExceeded, py7zr.exceptions.CrcError, OSError, EOFError, ValueError) as exc:
            for info in wanted:
                yield Problem(info.filename, f"cannot expand: {exc}", info.uncompressed)
            factory.close()
            return
        try:
            for info in wanted:
                spill = factory.spills.get(info.filename)
                if spill is None:
                    yield Problem(info.filename, "not produced by the decoder", info.uncompressed)
                    continue
                yield Member(
                    info.filename, info.uncompressed, spill.reader, warning=unsafe_name(info.filename)
                )
        finally:
            factory.close()


class _SpillFactory(py7zr.io.WriterFactory):
    """py7zr's writer factory: one spill per member, each bounded by its declared size."""

    def __init__(self, limits: Limits, sizes: dict[str, int]) -> None:
        self.limits = limits
        self.sizes = sizes
        self.spills: dict[str, Spill] = {}

    def create(self, filename: str) -> py7zr.io.Py7zIO:
        spill = Spill(self.limits, self.sizes.get(filename, 0))
        self.spills[filename] = spill
        return _Py7zWriter(spill)

    def close(self) -> None:
        for spill in self.spills.values():
            spill.close()


class _Py7zWriter(py7zr.io.Py7zIO):
    """The writer py7zr's factory hands out: everything it writes goes to the spill."""

    def __init__(self, spill: Spill) -> None:
        self.spill = spill

    def write(self, data: bytes | bytearray | memoryview) -> int:
        return self.spill.write(data)

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def flush(self) -> None:
        return None

    def size(self) -> int:
        return self.spill.size
