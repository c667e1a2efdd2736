"""Disk images: raw (``.dd``/``.img``/``.raw``, split ``.001``/``.002``…) and EnCase E01 (EWF), read with
The Sleuth Kit (pytsk3) and libewf (pyewf) — the parsers forensic examiners already trust in court, rather
than home-made ones.

What a disk image holds, as members:

* a partition table (MBR/DOS, GPT, ... anything TSK reads): every *allocated* partition in volume-system
  order is ``p1``, ``p2``, ... (meta entries like "Primary Table" and unallocated gaps are skipped, so the
  numbers match what an examiner sees in ``mmls`` without the meta rows); its files are ``p<N>/dir/file``;
* a bare file system (no partition table, e.g. a USB stick formatted whole, or a partition image):
  its files are ``dir/file``.

File systems are whatever TSK opens (FAT12/16/32, exFAT, NTFS, ext2/3/4, HFS+, ISO 9660, ...). Per file
system:

* regular files become `Member`s whose ``open()`` streams the bytes through TSK (nothing is extracted);
* **deleted** files (name or metadata unallocated) whose content TSK can still read become
  ``Member(deleted=True)``. What TSK recovers is the best available, not a guarantee: on FAT the clusters
  of a deleted file may since have been reused by another file, and TSK cannot tell. When the metadata is
  gone (ext4 with wiped extents, a cleared inode, an inode since given to another file) the entry becomes
  ``Problem(name, "deleted, content not recoverable ...", deleted=True)``; when only part of the block
  list survives the member carries a warning that the missing parts read as zeros;
* TSK's virtual ``$OrphanFiles`` directory (deleted files whose parent directory is unknown, found by a
  scan of the metadata area) is walked and reported as ``$OrphanFiles/OrphanFile-<inode>``: orphans are
  exactly the deleted pictures an examiner looks for. Its other virtual files (``$MBR``, ``$FAT1``,
  ``$FAT2``) are views of file-system structures, not files, and are skipped;
* NTFS system files (MFT entries 0-15: ``$MFT``, ``$LogFile``, ``$Extend`` and all below it, ...) and
  the unused reserved entries 16-23 are file-system metadata and are skipped (a file a user made never
  lives there);
* exFAT's ``$ALLOC_BITMAP`` and ``$UPCASE_TABLE``, which TSK shows as regular files in the root, are
  listed like files: nothing tells them apart from a user's file of that name, and skipping by name
  would let such a file hide. TSK's zero-byte "<label> (Volume Label Entry)" is listed too (empty);
* NTFS alternate data streams of files are members named ``file:stream`` (a classic hiding place);
* symbolic links are never followed: ``Problem(name, "symbolic link to X (not followed)")``;
* FIFOs, sockets and device nodes hold no bytes and are skipped;
* a directory reached a second time (a loop in a corrupt file system) is reported, not entered.

Order is stable: per directory, files sorted by name, then its subdirectories depth first.
Names are TSK's UTF-8 (undecodable bytes shown as ``\\xNN``); on FAT a deleted short name has lost its first
letter, which TSK shows as ``_``.

Everything is opened read-only: image files with ``open(..., "rb")``, EWF segments with libewf's read
mode; TSK only reads through the callbacks below. A partition that cannot be read becomes a `Problem`
while the others are still listed; only an image that cannot be opened at all raises `ContainerError`.
Members of one image share one TSK handle, so reads are serialised by a lock (several threads may hash
members of one image; they just take turns).

Modules: `detect` (signatures), `image` (the bytes: raw, split raw, E01), `tsk` (The Sleuth Kit glue),
`walk` (partitions, file systems, deleted files). This package needs the [forensics] extra (pytsk3,
libewf-python); `vigil.sources.containers()` leaves `DiskImage` out when they are missing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, BinaryIO

from vigil.sources.base import Container, ContainerError, Entry, Limits, Problem
from vigil.sources.disk.detect import is_disk_image
from vigil.sources.disk.image import Source, open_source
from vigil.sources.disk.text import reason
from vigil.sources.disk.tsk import Guard, TskImage
from vigil.sources.disk.walk import image_entries


class DiskImage(Container):
    """A raw or E01 disk image (or a bare file-system image); see the module docstring."""

    kind = "disk"
    random_access = True

    def __init__(self, stream: BinaryIO, name: str, limits: Limits, path: str | None = None) -> None:
        super().__init__(stream, name, limits, path)
        self._guard = Guard()
        self._source: Source | None = None
        self._image: Any = None

    @classmethod
    def detect(cls, head: bytes, name: str) -> bool:
        return is_disk_image(head, name)

    def _open(self) -> Any:
        if self._image is None:
            source = open_source(self.stream, self.path)
            if source.size <= 0:
                source.close()
                raise ContainerError("empty disk image")
            try:
                image = TskImage(source, self._guard)
            except Exception as exc:
                source.close()
                raise ContainerError(f"The Sleuth Kit cannot open the image: {reason(exc)}") from exc
            self._source, self._image = source, image
        return self._image

    def entries(self) -> Iterator[Entry]:
        if self._guard.closed:
            raise ContainerError("disk image already closed")
        image = self._open()
        limit = self.limits.max_members
        for count, entry in enumerate(image_entries(image, self._guard)):
            if count >= limit:
                yield Problem("…", f"member limit reached ({limit:,}); rest not listed")
                return
            yield entry

    def close(self) -> None:
        """Make every member stream fail cleanly from now on, then release files and libewf handles.
        TSK's own objects are left to the garbage collector: closing them while a member stream still
        holds a file of theirs would free memory that stream points into."""
        with self._guard.lock:
            self._guard.closed = True
            if self._source is not None:
                # Closing a read-only handle after a read error may fail: there is nothing to keep.
                with contextlib.suppress(Exception):
                    self._source.close()
            self._source = None
            self._image = None
