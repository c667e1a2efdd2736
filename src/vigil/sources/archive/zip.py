"""zip archives (incl. zip64): sizes are declared, so bombs are refused by arithmetic before a byte is
inflated; encrypted members and symbolic links are reported, not read."""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Iterator
from typing import BinaryIO

from vigil.sources.archive.common import CORRUPT, Budget, metered, ratio_problem, stream_size, unsafe_name
from vigil.sources.base import Container, ContainerError, Entry, Member, Problem


class ZipArchive(Container):
    kind = "zip"
    random_access = True

    @classmethod
    def detect(cls, head: bytes, name: str) -> bool:
        return head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"))

    def entries(self) -> Iterator[Entry]:
        try:
            zf = zipfile.ZipFile(self.stream)
        except (*CORRUPT, zipfile.LargeZipFile, OSError, NotImplementedError) as exc:
            raise ContainerError(f"cannot read zip archive: {exc}") from exc
        budget = Budget(self.limits, stream_size(self.stream))
        with zf:
            for count, info in enumerate(zf.infolist()):
                if count >= self.limits.max_members:
                    yield Problem("…", f"member limit reached ({self.limits.max_members:,}); rest not listed")
                    return
                mode = info.external_attr >> 16
                if info.is_dir():
                    continue
                if stat.S_ISLNK(mode):
                    yield Problem(info.filename, "symbolic link (not followed)", info.file_size)
                    continue
                if info.flag_bits & 0x1:
                    yield Problem(info.filename, "encrypted", info.file_size)
                    continue
                too_big = ratio_problem(info.filename, info.file_size, info.compress_size, self.limits)
                if too_big:
                    yield Problem(info.filename, too_big, info.file_size)
                    continue
                yield Member(
                    info.filename,
                    info.file_size,
                    lambda info=info: metered(_open(zf, info), budget, info.file_size),  # type: ignore[misc,arg-type]
                    warning=unsafe_name(info.filename),
                )


def _open(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> BinaryIO:
    """A member's stream; ContainerError when its local header is corrupt or points outside the file."""
    try:
        return zf.open(info)  # type: ignore[return-value]
    except (*CORRUPT, NotImplementedError) as exc:
        raise ContainerError(f"cannot read zip member {info.filename!r}: {exc}") from None
