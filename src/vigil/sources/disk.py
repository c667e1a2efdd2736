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
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import struct
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import pyewf  # type: ignore[import-untyped]
import pytsk3  # type: ignore[import-untyped]

from vigil.core.fsio import open_readonly
from vigil.sources.base import Container, ContainerError, Entry, Limits, Member, Problem

EWF_SIGNATURE = b"EVF\x09\x0d\x0a\xff\x00"
_RAW_SUFFIXES = (".dd", ".raw", ".img", ".001")
_SPLIT_RE = re.compile(r"^(?P<stem>.*\.)(?P<num>0*1)$")
_TSK_LOCATION = re.compile(r"\w+: \(tsk3\.cpp:\d+\) ")
_READ_CHUNK = 1 << 20  # buffer of a member stream: big reads keep the per-call overhead of TSK low
_NTFS_SYSTEM_ENTRIES = 16  # MFT entries 0-15 are the system files ($MFT, $LogFile, ..., $Extend)
_NTFS_FIRST_USER_ENTRY = 24  # 16-23 are reserved; TSK lists the unused ones as orphans
_UNRECOVERABLE = "deleted, content not recoverable"


def _reason(exc: BaseException) -> str:
    """One readable line out of a pytsk3/pyewf error (they carry C source locations and newlines)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = _TSK_LOCATION.sub("", text)
    return text if len(text) <= 240 else text[:237] + "..."


def _text(value: Any) -> str:
    """TSK names and link targets come as bytes (UTF-8 after TSK's own conversion) or str."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return "" if value is None else str(value)


# --- detection --------------------------------------------------------------------------------------


def _fat_boot_sector(head: bytes) -> bool:
    """A FAT (or any DOS 2.0+ BIOS parameter block) boot sector: jump, sane geometry, 0x55AA."""
    if len(head) < 512 or head[510:512] != b"\x55\xaa" or head[0] not in (0xEB, 0xE9):
        return False
    bytes_per_sector, sectors_per_cluster, reserved, fats = struct.unpack_from("<HBHB", head, 11)
    return (
        bytes_per_sector in (512, 1024, 2048, 4096)
        and sectors_per_cluster in (1, 2, 4, 8, 16, 32, 64, 128)
        and reserved >= 1
        and fats in (1, 2)
    )


def _mbr_plausible(head: bytes) -> bool:
    """0x55AA and four partition entries that look like entries: boot flag 0x00/0x80 everywhere and at
    least one used entry with a non-zero length. Random data with 0x55AA at 510 rarely passes this."""
    if len(head) < 512 or head[510:512] != b"\x55\xaa":
        return False
    used = 0
    for i in range(4):
        entry = head[446 + 16 * i : 462 + 16 * i]
        status, ptype = entry[0], entry[4]
        start, length = struct.unpack_from("<II", entry, 8)
        if status not in (0x00, 0x80):
            return False
        if ptype != 0 and length != 0:
            used += 1
        elif ptype == 0 and (start or length or status):
            return False
    return used > 0


def _ext_superblock(head: bytes) -> bool:
    """ext2/3/4: magic 0xEF53 at 1024+56, a block size of 1-64 KiB and some inodes."""
    if len(head) < 1084 or head[1080:1082] != b"\x53\xef":
        return False
    inodes, log_block_size = struct.unpack_from("<I", head, 1024)[0], struct.unpack_from("<I", head, 1048)[0]
    return inodes > 0 and log_block_size <= 6


# --- byte sources: everything TSK reads comes through one of these -----------------------------------


class _Source(ABC):
    """Random-access bytes of the whole (virtual) disk."""

    size: int = 0

    @abstractmethod
    def read(self, offset: int, size: int) -> bytes: ...

    def close(self) -> None:  # noqa: B027 (a source over the caller's stream has nothing to release)
        """Release what this source opened itself (never the caller's stream)."""


class _FilesSource(_Source):
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


class _EwfSource(_Source):
    """The media of an EWF (E01) image, through libewf."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        self.size = int(handle.get_media_size())

    def read(self, offset: int, size: int) -> bytes:
        return bytes(self._handle.read_buffer_at_offset(size, offset))

    def close(self) -> None:
        self._handle.close()


class _TskImage(pytsk3.Img_Info):  # type: ignore[misc]
    """A TSK image whose reads are served by a `_Source` (TSK's "external" image type). Going through
    Python for every image type keeps one code path for plain files, split parts, EWF and streams
    nested in archives, and lets `close()` make later reads fail cleanly instead of touching freed C
    memory."""

    def __init__(self, source: _Source, guard: _Guard) -> None:
        self._source = source
        self._guard = guard
        super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

    def read(self, offset: int, size: int) -> bytes:
        self._guard.check()
        return self._source.read(offset, size)

    def get_size(self) -> int:
        return self._source.size

    def close(self) -> None:
        """TSK calls this when it is done; the source is closed by `DiskImage.close`."""


class _Guard:
    """The lock serialising every TSK call of one image, and its closed state."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.closed = False

    def check(self) -> None:
        if self.closed:
            raise OSError("disk image already closed")


class _TskFileReader(io.RawIOBase):
    """A read-only, seekable stream over one attribute of a TSK file (`read_random`), so a large file is
    hashed in chunks without ever being held in memory or written out."""

    def __init__(self, fs_file: Any, size: int, attr_type: int, attr_id: int, guard: _Guard) -> None:
        super().__init__()
        self._file = fs_file
        self._size = size
        self._type = attr_type
        self._id = attr_id
        self._guard = guard
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self._size + offset
        else:
            raise ValueError(f"invalid whence: {whence}")
        if pos < 0:
            raise ValueError("negative seek position")
        self._pos = pos
        return pos

    def readinto(self, buffer: Any) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._size - self._pos)
        if want <= 0:
            return 0
        with self._guard.lock:
            self._guard.check()
            try:
                data = self._file.read_random(self._pos, want, self._type, self._id)
            except Exception as exc:  # pytsk3 raises OSError, RuntimeError, ... on damaged data
                raise OSError(f"read error at offset {self._pos}: {_reason(exc)}") from exc
        if not data:
            raise OSError(f"no data at offset {self._pos} of {self._size} (damaged or truncated image)")
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)


def _opener(fs_file: Any, size: int, attr_type: int, attr_id: int, guard: _Guard) -> Callable[[], BinaryIO]:
    def open_member() -> BinaryIO:
        raw = _TskFileReader(fs_file, size, attr_type, attr_id, guard)
        return io.BufferedReader(raw, buffer_size=_READ_CHUNK)

    return open_member


# --- the container ----------------------------------------------------------------------------------


class DiskImage(Container):
    """A raw or E01 disk image (or a bare file-system image); see the module docstring."""

    kind = "disk"
    random_access = True

    def __init__(self, stream: BinaryIO, name: str, limits: Limits, path: str | None = None) -> None:
        super().__init__(stream, name, limits, path)
        self._guard = _Guard()
        self._source: _Source | None = None
        self._image: Any = None

    @classmethod
    def detect(cls, head: bytes, name: str) -> bool:
        if head.startswith(EWF_SIGNATURE):
            # Every EWF segment starts with the signature; only the first (segment number 1, a little-
            # endian u16 at offset 9) is the image. Later segments are read as part of it.
            return len(head) >= 11 and struct.unpack_from("<H", head, 9)[0] == 1
        if head[512:520] == b"EFI PART":
            return True
        if head[3:11] in (b"NTFS    ", b"EXFAT   "):
            return True
        if _ext_superblock(head) or _fat_boot_sector(head) or _mbr_plausible(head):
            return True
        # A name that says "disk image" is enough for a boot-sector signature with an odd table.
        return name.lower().endswith(_RAW_SUFFIXES) and head[510:512] == b"\x55\xaa"

    # opening

    def _open_source(self) -> _Source:
        self.stream.seek(0)
        magic = self.stream.read(len(EWF_SIGNATURE))
        if magic == EWF_SIGNATURE:
            return self._open_ewf()
        if self.path is not None:
            match = _SPLIT_RE.match(self.path)
            if match is not None:
                parts = self._split_parts(match.group("stem"), len(match.group("num")))
                if len(parts) > 1:
                    files: list[BinaryIO] = []
                    try:
                        for part in parts:
                            files.append(os.fdopen(open_readonly(part), "rb"))  # closed by close()
                    except OSError as exc:
                        for f in files:
                            f.close()
                        raise ContainerError(f"cannot open split image part: {_reason(exc)}") from exc
                    return _FilesSource(files, owned=True)
        return _FilesSource([self.stream], owned=False)

    @staticmethod
    def _split_parts(stem: str, width: int) -> list[str]:
        """x.001, x.002, ... as long as the next number exists (the first gap ends the set)."""
        parts: list[str] = []
        number = 1
        while True:
            candidate = f"{stem}{number:0{width}d}"
            if not os.path.isfile(candidate):
                return parts
            parts.append(candidate)
            number += 1

    def _open_ewf(self) -> _Source:
        handle = pyewf.handle()
        try:
            if self.path is not None:
                try:
                    filenames = pyewf.glob(self.path)
                except Exception:  # a first segment not named .E01: open it alone
                    filenames = [self.path]
                handle.open(filenames, "r")
            else:
                # Nested in an archive: only this one segment exists, libewf reads the file object.
                handle.open_file_objects([self.stream], "r")
        except Exception as exc:
            raise ContainerError(f"EWF image cannot be opened: {_reason(exc)}") from exc
        source = _EwfSource(handle)
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
            raise ContainerError(
                f"EWF image is truncated or a segment file is missing: {_reason(exc)}"
            ) from exc
        return source

    def _open(self) -> Any:
        if self._image is None:
            source = self._open_source()
            if source.size <= 0:
                source.close()
                raise ContainerError("empty disk image")
            try:
                image = _TskImage(source, self._guard)
            except Exception as exc:
                source.close()
                raise ContainerError(f"The Sleuth Kit cannot open the image: {_reason(exc)}") from exc
            self._source, self._image = source, image
        return self._image

    # listing

    def entries(self) -> Iterator[Entry]:
        if self._guard.closed:
            raise ContainerError("disk image already closed")
        image = self._open()
        limit = self.limits.max_members
        for count, entry in enumerate(self._all_entries(image)):
            if count >= limit:
                yield Problem("…", f"member limit reached ({limit:,}); rest not listed")
                return
            yield entry

    def _all_entries(self, image: Any) -> Iterator[Entry]:
        volume_error = ""
        with self._guard.lock:
            try:
                volume = pytsk3.Volume_Info(image)
            except Exception as exc:
                volume, volume_error = None, _reason(exc)
        if volume is None:
            with self._guard.lock:
                try:
                    fs = pytsk3.FS_Info(image, offset=0)
                except Exception as exc:
                    head = image.read(0, 1024)
                    if _mbr_plausible(head) or head[512:520] == b"EFI PART":
                        # TSK refuses a whole table when an entry points past the end of the image.
                        detail = "" if "unknown libtsk error" in volume_error else f": {volume_error}"
                        raise ContainerError(
                            "partition table cannot be read (corrupt, or the image is truncated: it has "
                            f"{image.get_size()} bytes){detail}"
                        ) from exc
                    raise ContainerError(
                        f"no partition table or file system that The Sleuth Kit can read: {_reason(exc)}"
                    ) from exc
            yield from self._guarded_walk(fs, "")
            return

        block_size = int(volume.info.block_size)
        with self._guard.lock:
            partitions = [p for p in volume if int(p.flags) & pytsk3.TSK_VS_PART_FLAG_ALLOC]
        if not partitions:
            yield Problem("p0", "partition table lists no partitions")
            return
        for number, part in enumerate(partitions, start=1):
            label = f"p{number}"
            start, length = int(part.start), int(part.len)
            where = (
                f"partition {number} ({_text(part.desc) or 'no type'}, sectors {start}-{start + length - 1})"
            )
            overrun = (start + length) * block_size > image.get_size()
            with self._guard.lock:
                try:
                    fs = pytsk3.FS_Info(image, offset=start * block_size)
                except Exception as exc:
                    past_end = "; it extends past the end of the image" if overrun else ""
                    yield Problem(label, f"{where}: no readable file system: {_reason(exc)}{past_end}")
                    continue
            if overrun:
                yield Problem(
                    label,
                    f"{where} extends past the end of the image (corrupt partition table or truncated "
                    "image); files beyond the end cannot be read",
                )
            yield from self._guarded_walk(fs, label + "/")

    def _guarded_walk(self, fs: Any, prefix: str) -> Iterator[Entry]:
        """`_walk`, but an unexpected failure inside one file system ends that file system with a
        `Problem` instead of ending the whole image with a traceback."""
        try:
            yield from self._walk(fs, prefix)
        except Exception as exc:
            yield Problem(prefix.rstrip("/") or "/", f"file system listing stopped: {_reason(exc)}")

    def _walk(self, fs: Any, prefix: str) -> Iterator[Entry]:
        """Depth-first over one file system, iteratively (deep trees must not hit Python's recursion
        limit), entering every directory inode at most once."""
        guard = self._guard
        ntfs = bool(int(fs.info.ftype) & pytsk3.TSK_FS_TYPE_NTFS_DETECT)
        root_inum = int(fs.info.root_inum)
        visited = {root_inum}
        with guard.lock:
            try:
                root = fs.open_dir(inode=root_inum)
            except Exception as exc:
                yield Problem(prefix.rstrip("/") or "/", f"root directory cannot be read: {_reason(exc)}")
                return
        stack: list[tuple[Any, str, bool]] = [(root, prefix, False)]
        while stack:
            directory, path, in_deleted = stack.pop()
            children: list[tuple[bytes, Any]] = []
            with guard.lock:
                try:
                    if directory is None:
                        raise OSError("not a directory TSK can open")
                    for fs_file in directory:
                        raw = fs_file.info.name.name
                        raw = raw if isinstance(raw, bytes) else str(raw).encode()
                        if raw not in (b".", b".."):
                            children.append((raw, fs_file))
                except Exception as exc:
                    yield Problem(
                        path.rstrip("/") or "/",
                        f"directory cannot be read: {_reason(exc)}",
                        deleted=in_deleted,
                    )
                    continue
            children.sort(key=lambda child: child[0])
            subdirs: list[tuple[Any, str, bool]] = []
            for raw, fs_file in children:
                name = path + _text(raw)
                try:
                    with guard.lock:
                        items = list(self._classify(fs_file, name, in_deleted, ntfs, visited))
                except Exception as exc:  # damaged metadata TSK did not catch: this entry only
                    items = [Problem(name, f"cannot be read: {_reason(exc)}", deleted=in_deleted)]
                for item in items:
                    if isinstance(item, tuple):
                        subdirs.append(item)
                    else:
                        yield item
            stack.extend(reversed(subdirs))

    def _classify(
        self, fs_file: Any, name: str, in_deleted: bool, ntfs: bool, visited: set[int]
    ) -> Iterator[Entry | tuple[Any, str, bool]]:
        """What one directory entry is: member(s), a problem, a directory to enter, or nothing."""
        name_info, meta = fs_file.info.name, fs_file.info.meta
        if ntfs:
            addr = int(meta.addr) if meta is not None else int(name_info.meta_addr)
            if addr < _NTFS_SYSTEM_ENTRIES or (
                addr < _NTFS_FIRST_USER_ENTRY
                and (meta is None or int(meta.flags) & pytsk3.TSK_FS_META_FLAG_UNALLOC)
            ):
                return  # $MFT, $LogFile, $Extend, ... and unused reserved entries: not evidence files
        name_unalloc = bool(int(name_info.flags) & pytsk3.TSK_FS_NAME_FLAG_UNALLOC)
        meta_unalloc = meta is not None and bool(int(meta.flags) & pytsk3.TSK_FS_META_FLAG_UNALLOC)
        deleted = in_deleted or name_unalloc or meta_unalloc
        if meta is None:
            yield Problem(
                name, f"{_UNRECOVERABLE} (no metadata)" if deleted else "no metadata", deleted=deleted
            )
            return
        if name_unalloc and not meta_unalloc and int(meta.flags) & pytsk3.TSK_FS_META_FLAG_ALLOC:
            # A deleted name whose inode/MFT entry now belongs to a live file: its bytes are not this
            # file's any more (TSK's "realloc"). Listing them would attribute another file's content.
            yield Problem(name, f"{_UNRECOVERABLE} (its metadata now belongs to another file)", deleted=True)
            return
        meta_type = int(meta.type)
        addr = int(meta.addr)
        if meta_type in (pytsk3.TSK_FS_META_TYPE_DIR, pytsk3.TSK_FS_META_TYPE_VIRT_DIR):
            if addr in visited:
                yield Problem(
                    name, "directory already listed under another name (loop), not entered", deleted=deleted
                )
                return
            visited.add(addr)
            with self._guard.lock:
                try:
                    directory = fs_file.as_directory()
                except Exception:
                    directory = None  # reported by _walk when popped, in order
            yield (directory, name + "/", deleted)
            return
        if meta_type == pytsk3.TSK_FS_META_TYPE_LNK:
            target = _text(getattr(meta, "link", None)) or "?"
            yield Problem(name, f"symbolic link to {target} (not followed)", deleted=deleted)
            return
        if meta_type == pytsk3.TSK_FS_META_TYPE_REG:
            yield from self._regular(fs_file, meta, name, deleted)
            return
        if deleted and meta_type not in (pytsk3.TSK_FS_META_TYPE_VIRT,):
            # A cleared inode (type unknown) or a deleted special file: nothing to read.
            yield Problem(name, f"{_UNRECOVERABLE} (metadata cleared)", deleted=True)
        # Allocated FIFOs, sockets, devices and TSK's virtual $MBR/$FAT1/$FAT2 hold no file content.

    def _regular(self, fs_file: Any, meta: Any, name: str, deleted: bool) -> Iterator[Entry]:
        size = int(meta.size)
        guard = self._guard
        warning: str | None = None
        streams: list[tuple[str, int, int]] = []  # NTFS alternate data streams: (name, size, id)
        default_runs: list[int] | None = None  # flags of the runs of the unnamed data attribute
        with guard.lock:
            try:
                for attr in fs_file:
                    info = attr.info
                    attr_type = int(info.type)
                    if attr_type not in (pytsk3.TSK_FS_ATTR_TYPE_DEFAULT, pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA):
                        continue
                    attr_name = _text(info.name)
                    if attr_name and attr_type == pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA:
                        streams.append((attr_name, int(info.size), int(info.id)))
                    elif default_runs is None and int(info.flags) & pytsk3.TSK_FS_ATTR_NONRES:
                        default_runs = [int(run.flags) for run in attr]
                if deleted and size > 0:
                    fs_file.read_random(0, min(size, 4096))  # proves TSK can still locate the content
            except Exception as exc:
                if deleted:
                    yield Problem(name, f"{_UNRECOVERABLE} ({_reason(exc)})", size=size, deleted=True)
                    return
                # A live file whose attributes TSK cannot load still gets listed: the read reports it.
        if deleted and size > 0 and default_runs:
            missing = pytsk3.TSK_FS_ATTR_RUN_FLAG_SPARSE | pytsk3.TSK_FS_ATTR_RUN_FLAG_FILLER
            lost = sum(1 for flags in default_runs if flags & missing)
            if lost == len(default_runs):
                yield Problem(name, f"{_UNRECOVERABLE} (block list erased)", size=size, deleted=True)
                return
            if lost:
                warning = "deleted; part of the block list is erased and reads as zeros"
        yield Member(
            name,
            size,
            _opener(fs_file, size, pytsk3.TSK_FS_ATTR_TYPE_DEFAULT, -1, guard),
            deleted=deleted,
            warning=warning,
        )
        for stream_name, stream_size, stream_id in streams:
            yield Member(
                f"{name}:{stream_name}",
                stream_size,
                _opener(fs_file, stream_size, pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA, stream_id, guard),
                deleted=deleted,
                warning="NTFS alternate data stream",
            )

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
