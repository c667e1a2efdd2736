"""The walk of a disk image: its partitions (or its one bare file system), then each file system depth
first, deleted files included; what each directory entry becomes (member, problem, directory to enter, or
nothing) is decided here. The rules are in `vigil.sources.disk`'s docstring."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytsk3  # type: ignore[import-untyped]

from vigil.sources.base import ContainerError, Entry, Member, Problem
from vigil.sources.disk.detect import mbr_plausible
from vigil.sources.disk.text import as_text, reason
from vigil.sources.disk.tsk import Guard, opener

_NTFS_SYSTEM_ENTRIES = 16  # MFT entries 0-15 are the system files ($MFT, $LogFile, ..., $Extend)
_NTFS_FIRST_USER_ENTRY = 24  # 16-23 are reserved; TSK lists the unused ones as orphans
_UNRECOVERABLE = "deleted, content not recoverable"


def image_entries(image: Any, guard: Guard) -> Iterator[Entry]:
    """Every entry of a TSK image: its partitions' file systems, or the one file system it holds."""
    volume_error = ""
    with guard.lock:
        try:
            volume = pytsk3.Volume_Info(image)
        except Exception as exc:
            volume, volume_error = None, reason(exc)
    if volume is None:
        with guard.lock:
            try:
                fs = pytsk3.FS_Info(image, offset=0)
            except Exception as exc:
                head = image.read(0, 1024)
                if mbr_plausible(head) or head[512:520] == b"EFI PART":
                    # TSK refuses a whole table when an entry points past the end of the image.
                    detail = "" if "unknown libtsk error" in volume_error else f": {volume_error}"
                    raise ContainerError(
                        "partition table cannot be read (corrupt, or the image is truncated: it has "
                        f"{image.get_size()} bytes){detail}"
                    ) from exc
                raise ContainerError(
                    f"no partition table or file system that The Sleuth Kit can read: {reason(exc)}"
                ) from exc
        yield from _guarded_walk(fs, "", guard)
        return

    block_size = int(volume.info.block_size)
    with guard.lock:
        partitions = [p for p in volume if int(p.flags) & pytsk3.TSK_VS_PART_FLAG_ALLOC]
    if not partitions:
        yield Problem("p0", "partition table lists no partitions")
        return
    for number, part in enumerate(partitions, start=1):
        label = f"p{number}"
        start, length = int(part.start), int(part.len)
        where = (
            f"partition {number} ({as_text(part.desc) or 'no type'}, sectors {start}-{start + length - 1})"
        )
        overrun = (start + length) * block_size > image.get_size()
        with guard.lock:
            try:
                fs = pytsk3.FS_Info(image, offset=start * block_size)
            except Exception as exc:
                past_end = "; it extends past the end of the image" if overrun else ""
                yield Problem(label, f"{where}: no readable file system: {reason(exc)}{past_end}")
                continue
        if overrun:
            yield Problem(
                label,
                f"{where} extends past the end of the image (corrupt partition table or truncated "
                "image); files beyond the end cannot be read",
            )
        yield from _guarded_walk(fs, label + "/", guard)


def _guarded_walk(fs: Any, prefix: str, guard: Guard) -> Iterator[Entry]:
    """`_walk`, but an unexpected failure inside one file system ends that file system with a
    `Problem` instead of ending the whole image with a traceback."""
    try:
        yield from _walk(fs, prefix, guard)
    except Exception as exc:
        yield Problem(prefix.rstrip("/") or "/", f"file system listing stopped: {reason(exc)}")


def _walk(fs: Any, prefix: str, guard: Guard) -> Iterator[Entry]:
    """Depth-first over one file system, iteratively (deep trees must not hit Python's recursion
    limit), entering every directory inode at most once."""
    ntfs = bool(int(fs.info.ftype) & pytsk3.TSK_FS_TYPE_NTFS_DETECT)
    root_inum = int(fs.info.root_inum)
    visited = {root_inum}
    with guard.lock:
        try:
            root = fs.open_dir(inode=root_inum)
        except Exception as exc:
            yield Problem(prefix.rstrip("/") or "/", f"root directory cannot be read: {reason(exc)}")
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
                    f"directory cannot be read: {reason(exc)}",
                    deleted=in_deleted,
                )
                continue
        children.sort(key=lambda child: child[0])
        subdirs: list[tuple[Any, str, bool]] = []
        for raw, fs_file in children:
            name = path + as_text(raw)
            try:
                with guard.lock:
                    items = list(_classify(fs_file, name, in_deleted, ntfs, visited, guard))
            except Exception as exc:  # damaged metadata TSK did not catch: this entry only
                items = [Problem(name, f"cannot be read: {reason(exc)}", deleted=in_deleted)]
            for item in items:
                if isinstance(item, tuple):
                    subdirs.append(item)
                else:
                    yield item
        stack.extend(reversed(subdirs))


def _classify(
    fs_file: Any, name: str, in_deleted: bool, ntfs: bool, visited: set[int], guard: Guard
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
        yield Problem(name, f"{_UNRECOVERABLE} (no metadata)" if deleted else "no metadata", deleted=deleted)
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
        with guard.lock:
            try:
                directory = fs_file.as_directory()
            except Exception:
                directory = None  # reported by _walk when popped, in order
        yield (directory, name + "/", deleted)
        return
    if meta_type == pytsk3.TSK_FS_META_TYPE_LNK:
        target = as_text(getattr(meta, "link", None)) or "?"
        yield Problem(name, f"symbolic link to {target} (not followed)", deleted=deleted)
        return
    if meta_type == pytsk3.TSK_FS_META_TYPE_REG:
        yield from _regular(fs_file, meta, name, deleted, guard)
        return
    if deleted and meta_type not in (pytsk3.TSK_FS_META_TYPE_VIRT,):
        # A cleared inode (type unknown) or a deleted special file: nothing to read.
        yield Problem(name, f"{_UNRECOVERABLE} (metadata cleared)", deleted=True)
    # Allocated FIFOs, sockets, devices and TSK's virtual $MBR/$FAT1/$FAT2 hold no file content.


def _regular(fs_file: Any, meta: Any, name: str, deleted: bool, guard: Guard) -> Iterator[Entry]:
    size = int(meta.size)
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
                attr_name = as_text(info.name)
                if attr_name and attr_type == pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA:
                    streams.append((attr_name, int(info.size), int(info.id)))
                elif default_runs is None and int(info.flags) & pytsk3.TSK_FS_ATTR_NONRES:
                    default_runs = [int(run.flags) for run in attr]
            if deleted and size > 0:
                fs_file.read_random(0, min(size, 4096))  # proves TSK can still locate the content
        except Exception as exc:
            if deleted:
                yield Problem(name, f"{_UNRECOVERABLE} ({reason(exc)})", size=size, deleted=True)
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
        opener(fs_file, size, pytsk3.TSK_FS_ATTR_TYPE_DEFAULT, -1, guard),
        deleted=deleted,
        warning=warning,
    )
    for stream_name, stream_size, stream_id in streams:
        yield Member(
            f"{name}:{stream_name}",
            stream_size,
            opener(fs_file, stream_size, pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA, stream_id, guard),
            deleted=deleted,
            warning="NTFS alternate data stream",
        )
