"""RAR archives: recognised and reported, not opened."""

from __future__ import annotations

from collections.abc import Iterator

from vigil.sources.base import Container, ContainerError, Entry


class RarArchive(Container):
    """RAR is recognised but not opened: no free tool can write RAR archives to test a reader with, and
    an untested reader on hostile input is worse than a clear error item (the file is still hashed, so
    an exact match of the archive itself is found)."""

    kind = "rar"

    @classmethod
    def detect(cls, head: bytes, name: str) -> bool:
        return head.startswith((b"Rar!\x1a\x07\x00", b"Rar!\x1a\x07\x01\x00"))

    def entries(self) -> Iterator[Entry]:
        raise ContainerError(
            "RAR archive: not opened (no tested RAR reader in this build); contents not scanned"
        )
