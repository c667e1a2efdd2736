"""The bytes of a disk image: one read-only file or the caller's stream, the parts of a split raw image
(``x.001``, ``x.002``, ...) concatenated, or the media of an EWF (E01) image through libewf. Everything
The Sleuth Kit reads comes through one of these sources."""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from typing import Any, BinaryIO

import pyewf  # type: ignore[import-untyped]

from vigil.core.fsio import open_readonly
from vigil.sources.base import ContainerError
from vigil.sources.disk.detect import EWF_SIGNATURE
from vigil.sources.disk.text import reason

_SPLIT_RE = re.compile(r"^(?P<stem>.*\.)(?P<num>0*1)$")


class Source(ABC):
    """Random-access bytes of the whole (virtual) disk."""

    size: int = 0

    @abstractmethod
    def read(self, offset: int, size: int) -> bytes: ...

    def close(self) -> None:  # noqa: B027 (a source over the caller's stream has nothing to release)
        """Release what this source opened itself (never the caller's stream)."""


class FilesSource(Source):
    """One or more read-only files concatenated (a single image, or the parts of a split raw image)."""

    def __init__(self, files: list[BinaryIO], owned: bool) -> None:
        self._files = files
        self._owned = owned
        self._starts: list[int] = []
        total = 0
        for f in files:
            self._starts.append(total)
            total += f.seek(0, os.SEEK_END)
        self.size = total

    def read(self, offset: int, size: int) -> bytes:
        out = bytearray()
        index = len(self._starts) - 1
        while index > 0 and self._starts[index] > offset:
            index -= 1
        while size > 0 and index < len(self._files) and offset < self.size:
            f = self._files[index]
            f.seek(offset - self._starts[index])
            end = self._starts[index + 1] if index + 1 < len(self._starts) else self.size
            data = f.read(min(size, end - offset))
            if not data:
                break
            out += data
            offset += len(data)
            size -= len(data)
            if offset >= end:
                index += 1
        return bytes(out)

    def close(self) -> None:
        if self._owned:
            for f in self._files:
                f.close()


class EwfSource(Source):
    """The media of an EWF (E01) image, through libewf."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        self.size = int(handle.get_media_size())

    def read(self, offset: int, size: int) -> bytes:
        return bytes(self._handle.read_buffer_at_offset(size, offset))

    def close(self) -> None:
        self._handle.close()


def open_source(stream: BinaryIO, path: str | None) -> Source:
    """The source of the image in `stream`; `path` is its real path when it is a file of the evidence
    (E01 segments and split raw parts are found beside it), None when it is nested in a container."""
    stream.seek(0)
    magic = stream.read(len(EWF_SIGNATURE))
    if magic == EWF_SIGNATURE:
        return open_ewf(stream, path)
    if path is not None:
        match = _SPLIT_RE.match(path)
        if match is not None:
            parts = split_parts(match.group("stem"), len(match.group("num")))
            if len(parts) > 1:
                files: list[BinaryIO] = []
                try:
                    for part in parts:
                        files.append(os.fdopen(open_readonly(part), "rb"))  # closed by close()
                except OSError as exc:
                    for f in files:
                        f.close()
                    raise ContainerError(f"cannot open split image part: {reason(exc)}") from exc
                return FilesSource(files, owned=True)
    return FilesSource([stream], owned=False)


def split_parts(stem: str, width: int) -> list[str]:
    """x.001, x.002, ... as long as the next number exists (the first gap ends the set)."""
    parts: list[str] = []
    number = 1
    while True:
        candidate = f"{stem}{number:0{width}d}"
        if not os.path.isfile(candidate):
            return parts
        parts.append(candidate)
        number += 1


def open_ewf(stream: BinaryIO, path: str | None) -> Source:
    """The media of the EWF image in `stream` (all its segments when `path` names the first one)."""
    handle = pyewf.handle()
    try:
        if path is not None:
            try:
                filenames = pyewf.glob(path)
            except Exception:  # a first segment not named .E01: open it alone
                filenames = [path]
            handle.open(filenames, "r")
        else:
            # Nested in an archive: only this one segment exists, libewf reads the file object.
            handle.open_file_objects([stream], "r")
    except Exception as exc:
        raise ContainerError(f"EWF image cannot be opened: {reason(exc)}") from exc
    source = EwfSource(handle)
    # libewf opens a truncated image or an incomplete segment set without complaint and fails on
    # the first read of a missing chunk; reading the first and the last sector finds both cases now,
    # so the whole image becomes one clear error instead of hundreds of unreadable files.
    try:
        if source.size <= 0:
            raise ContainerError("EWF image has no media data")
        for offset in (0, max(0, source.size - 512)):
            if len(source.read(offset, min(512, source.size))) == 0:
                raise OSError(f"no data at offset {offset}")
    except ContainerError:
        source.close()
        raise
    except Exception as exc:
        source.close()
        raise ContainerError(f"EWF image is truncated or a segment file is missing: {reason(exc)}") from exc
    return source
