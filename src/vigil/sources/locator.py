"""Locators: where an item is, as the scan writes it — container layers joined by ``!/``
(``disk.E01!/p1/DCIM/a.zip!/b.jpg``) — and the one resolver that opens such a path again, read-only
(the report's thumbnails, the review app's pictures and video strips)."""

from __future__ import annotations

import io
import os
from typing import BinaryIO

from vigil.core.fsio import open_readonly
from vigil.sources import HEAD_BYTES, detect
from vigil.sources.base import ContainerError, LimitExceeded, Limits, Member

SEP = "!/"
MAX_NESTED_READ = 256 << 20  # a container inside a container is read into memory up to this size


def split(path: str) -> list[str]:
    """The layers of a locator: the file on disk, then each member's name inside the one before."""
    return path.split(SEP)


def join(*layers: str) -> str:
    return SEP.join(layers)


def read_evidence(path: str, limit: int = 64 << 20) -> bytes | None:
    """The bytes of an evidence file or of a member inside its containers, read-only, at most `limit`
    bytes; None if it cannot be had."""
    outer, *inner = split(path)
    try:
        with os.fdopen(open_readonly(outer), "rb") as fh:
            if not inner:
                return fh.read(limit)
            return _read_member(fh, outer, inner, limit)
    except (OSError, ContainerError, LimitExceeded, ValueError, RuntimeError):
        return None


def _read_member(
    stream: BinaryIO, name: str, inner: list[str], limit: int, real: bool = True
) -> bytes | None:
    kind = detect(stream.read(HEAD_BYTES), name)
    stream.seek(0)
    if kind is None:
        return None
    container = kind(stream, name, Limits(), name if real else None)
    try:
        for entry in container.entries():
            if entry.name != inner[0] or not isinstance(entry, Member):
                continue
            with entry.open() as fh:
                data = fh.read(limit if len(inner) == 1 else MAX_NESTED_READ)
            if len(inner) == 1:
                return data
            return _read_member(io.BytesIO(data), join(name, inner[0]), inner[1:], limit, real=False)
        return None
    finally:
        container.close()
