"""Evidence containers: archives, disk images. See `vigil.sources.base` for the interface.

`detect(head, name)` says which container (if any) a file is, from its first `HEAD_BYTES` bytes.
"""

from __future__ import annotations

from vigil.sources.archive import ARCHIVES
from vigil.sources.base import Container, ContainerError, Entry, LimitExceeded, Limits, Member, Problem, Spill

HEAD_BYTES = 8192  # as vigil.media.SNIFF_BYTES: the scanner detects containers from the head it hashed


def containers() -> tuple[type[Container], ...]:
    found: list[type[Container]] = list(ARCHIVES)
    try:
        from vigil.sources.disk import DiskImage
    except ImportError:  # the [forensics] extra (pytsk3, libewf-python) is not installed
        pass
    else:
        found.append(DiskImage)
    return tuple(found)


def detect(head: bytes, name: str) -> type[Container] | None:
    for kind in containers():
        if kind.detect(head, name):
            return kind
    return None


__all__ = [
    "HEAD_BYTES",
    "Container",
    "ContainerError",
    "Entry",
    "LimitExceeded",
    "Limits",
    "Member",
    "Problem",
    "Spill",
    "containers",
    "detect",
]
