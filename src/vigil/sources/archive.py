"""Archives: zip (incl. zip64), tar (plain, gzip, bzip2, xz), 7z; single compressed files (.gz/.bz2/.xz).

Nothing is extracted to disk by name: members are read as streams, so `../` or absolute member names
cannot write anywhere; they are still reported (the member is hashed, with a warning), because a name
crafted to escape an extraction folder is itself worth a reviewer's attention.

Bombs are stopped by arithmetic before decompression where the format declares sizes (zip, 7z) and by
counting while reading where it does not (tar streams, .gz): a member whose expanded size passes
`Limits.max_ratio` times its stored size (or the whole archive's), `Limits.max_member` or the
container's `Limits.max_total` becomes an error item. Encrypted members are error items ("encrypted"),
never silently skipped. Links and device nodes inside archives are listed, never followed.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from typing import Any, BinaryIO

from vigil.sources.base import Container, ContainerError, Entry, LimitExceeded, Limits, Member, Problem

SLACK = 1 << 20  # tiny archives may legitimately expand far beyond the ratio (a 1 KB file of zeros)


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
        data = self.inner.read(len(view))
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


def _metered(inner: BinaryIO, budget: Budget, cap: int | None = None) -> BinaryIO:
    return io.BufferedReader(Metered(inner, budget, cap), 1 << 20)  # type: ignore[return-value]


def stream_size(stream: BinaryIO) -> int:
    pos = stream.tell()
    end = stream.seek(0, os.SEEK_END)
    stream.seek(pos)
    return end


class ZipArchive(Container):
    kind = "zip"
    random_access = True

    @classmethod
    def detect(cls, head: bytes, name: str) -> bool:
        return head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"))

    def entries(self) -> Iterator[Entry]:
        try:
            zf = zipfile.ZipFile(self.stream)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
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
                    lambda info=info: _metered(zf.open(info), budget, info.file_size),  # type: ignore[misc,arg-type]
                    warning=unsafe_name(info.filename),
                )


_COMPRESSED: dict[bytes, tuple[str, Any]] = {
    b"\x1f\x8b": ("gzip", lambda f: gzip.GzipFile(fileobj=f, mode="rb")),
    b"BZh": ("bzip2", lambda f: bz2.BZ2File(f, mode="rb")),
    b"\xfd7zXZ\x00": ("xz", lambda f: lzma.LZMAFile(f, mode="rb")),  # noqa: SIM115
}


def _compression(head: bytes) -> tuple[str, Any] | None:
    for magic, kind in _COMPRESSED.items():
        if head.startswith(magic):
            return kind
    return None


class TarArchive(Container):
    """tar, plain or compressed, read as a stream in one pass (members must be opened in order, before
    the next one is asked for); a compressed file that is not a tar is one member: its content."""

    kind = "tar"

    @classmethod
    def detect(cls, head: bytes, name: str) -> bool:
        return head[257:262] == b"ustar" or _compression(head) is not None

    def entries(self) -> Iterator[Entry]:
        stored = stream_size(self.stream)
        budget = Budget(self.limits, stored)
        head = self.stream.read(512)
        self.stream.seek(0)
        comp = _compression(head)
        if comp is not None and not self._is_tar_inside(comp[1]):
            yield from self._single(comp, budget)
            return
        try:
            tf = tarfile.open(fileobj=self.stream, mode="r|*")  # noqa: SIM115 - closed below
        except (tarfile.TarError, OSError, EOFError, LimitExceeded) as exc:
            raise ContainerError(f"cannot read tar archive: {exc}") from exc
        with tf:
            count = 0
            try:
                for info in tf:
                    count += 1
                    if count > self.limits.max_members:
                        yield Problem(
                            "…", f"member limit reached ({self.limits.max_members:,}); rest not listed"
                        )
                        return
                    for entry in self._entry(tf, info, budget, stored):
                        yield entry
                        if isinstance(entry, Problem) and entry.reason.startswith("expansion ratio"):
                            # Skipping the member would mean inflating it: stop reading the archive here.
                            yield Problem("…", "rest of the archive not read after a decompression bomb")
                            return
            except LimitExceeded as exc:
                yield Problem("…", f"{exc}; rest of the archive not read")
            except (tarfile.TarError, OSError, EOFError, zlib_error) as exc:
                yield Problem("…", f"archive damaged after {count} members: {exc}")

    def _is_tar_inside(self, opener: Any) -> bool:
        try:
            with opener(self.stream) as inner:
                block = inner.read(512)
            return len(block) == 512 and block[257:262] == b"ustar"
        except (OSError, EOFError, lzma.LZMAError):
            return False
        finally:
            self.stream.seek(0)

    def _entry(
        self, tf: tarfile.TarFile, info: tarfile.TarInfo, budget: Budget, stored: int
    ) -> Iterator[Entry]:
        if info.isdir():
            return
        if info.issym() or info.islnk():
            kind = "symbolic" if info.issym() else "hard"
            yield Problem(info.name, f"{kind} link to {info.linkname} (not followed)")
            return
        if not info.isfile():
            yield Problem(info.name, "device, FIFO or other special member (not read)")
            return
        problem = ratio_problem(info.name, info.size, stored, self.limits)
        if problem:
            yield Problem(info.name, problem, info.size)
            return

        def open_member(info: tarfile.TarInfo = info) -> BinaryIO:
            fh = tf.extractfile(info)
            if fh is None:
                raise OSError(f"cannot read tar member {info.name}")
            return _metered(fh, budget, info.size)  # type: ignore[arg-type]

        yield Member(info.name, info.size, open_member, warning=unsafe_name(info.name))

    def _single(self, comp: tuple[str, Any], budget: Budget) -> Iterator[Entry]:
        _kind, opener = comp
        base = os.path.basename(self.name)
        for suffix in (".gz", ".tgz", ".bz2", ".xz", ".txz"):
            if base.lower().endswith(suffix):
                base = base[: -len(suffix)] + (".tar" if suffix in (".tgz", ".txz") else "")
                break
        else:
            base = base + ".out"

        def open_single() -> BinaryIO:
            self.stream.seek(0)
            return _metered(opener(self.stream), budget, self.limits.max_member)

        yield Member(base, -1, open_single)


try:  # zlib errors come up through gzip streams
    from zlib import error as zlib_error
except ImportError:  # pragma: no cover
    zlib_error = OSError  # type: ignore[misc,assignment]


class SevenZipArchive(Container):
    """7z through py7zr. Solid archives decompress front to back, so members are expanded in one pass
    into bounded spill buffers (memory, then a temporary file in the scan's spill folder)."""

    kind = "7z"

    @classmethod
    def detect(cls, head: bytes, name: str) -> bool:
        return head.startswith(b"7z\xbc\xaf\x27\x1c")

    def entries(self) -> Iterator[Entry]:
        from vigil.sources import sevenzip  # py7zr is imported only when a 7z archive turns up

        yield from sevenzip.entries(self)


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


ARCHIVES: tuple[type[Container], ...] = (ZipArchive, SevenZipArchive, TarArchive, RarArchive)
