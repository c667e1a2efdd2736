"""tar archives, plain or compressed (gzip, bzip2, xz), and single compressed files (.gz/.bz2/.xz).

A tar stream declares no total, so bombs are stopped by counting while reading; after one, the rest of
the archive is not read (skipping the member would mean inflating it). Links and device nodes are listed,
never followed.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import tarfile
from collections.abc import Iterator
from typing import Any, BinaryIO

from vigil.sources.archive.common import Budget, metered, ratio_problem, stream_size, unsafe_name
from vigil.sources.base import Container, ContainerError, Entry, LimitExceeded, Member, Problem

try:  # zlib errors come up through gzip streams
    from zlib import error as zlib_error
except ImportError:  # pragma: no cover
    zlib_error = OSError  # type: ignore[misc,assignment]

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
            # Names as bytes would be on disk: UTF-8, other bytes kept as surrogates (vigil.core.names).
            tf = tarfile.open(  # noqa: SIM115 - closed below
                fileobj=self.stream, mode="r|*", encoding="utf-8", errors="surrogateescape"
            )
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
        except (OSError, EOFError, lzma.LZMAError, zlib_error):
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
            return metered(fh, budget, info.size)  # type: ignore[arg-type]

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
            return metered(opener(self.stream), budget, self.limits.max_member)

        yield Member(base, -1, open_single)
