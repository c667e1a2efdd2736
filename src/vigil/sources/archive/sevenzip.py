"""7z archives: recognised here, read by `vigil.sources.archive.sevenzip_py7zr`, which is imported only
when a 7z archive turns up (py7zr costs ~80 ms to import, and most scans meet no 7z)."""

from __future__ import annotations

from collections.abc import Iterator

from vigil.sources.base import Container, Entry


class SevenZipArchive(Container):
    """7z through py7zr. Solid archives decompress front to back, so members are expanded in one pass
    into bounded spill buffers (memory, then a temporary file in the scan's spill folder)."""

    kind = "7z"

    @classmethod
    def detect(cls, head: bytes, name: str) -> bool:
        return head.startswith(b"7z\xbc\xaf\x27\x1c")

    def entries(self) -> Iterator[Entry]:
        from vigil.sources.archive import sevenzip_py7zr  # py7zr: only when a 7z archive turns up

        yield from sevenzip_py7zr.entries(self.stream, self.limits)
