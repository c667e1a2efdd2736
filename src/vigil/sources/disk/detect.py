"""Is this file a disk image? Signatures only (EWF, GPT, NTFS/exFAT, ext, FAT, a plausible MBR): cheap
checks on the first bytes, no parsing beyond magic numbers and a few sanity bounds."""

from __future__ import annotations

import struct

EWF_SIGNATURE = b"EVF\x09\x0d\x0a\xff\x00"
RAW_SUFFIXES = (".dd", ".raw", ".img", ".001")


def is_disk_image(head: bytes, name: str) -> bool:
    """True when a file starting with `head` and called `name` is a disk image (`DiskImage.detect`)."""
    if head.startswith(EWF_SIGNATURE):
        # Every EWF segment starts with the signature; only the first (segment number 1, a little-
        # endian u16 at offset 9) is the image. Later segments are read as part of it.
        return len(head) >= 11 and struct.unpack_from("<H", head, 9)[0] == 1
    if head[512:520] == b"EFI PART":
        return True
    if head[3:11] in (b"NTFS    ", b"EXFAT   "):
        return True
    if ext_superblock(head) or fat_boot_sector(head) or mbr_plausible(head):
        return True
    # A name that says "disk image" is enough for a boot-sector signature with an odd table.
    return name.lower().endswith(RAW_SUFFIXES) and head[510:512] == b"\x55\xaa"


def fat_boot_sector(head: bytes) -> bool:
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


def mbr_plausible(head: bytes) -> bool:
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


def ext_superblock(head: bytes) -> bool:
    """ext2/3/4: magic 0xEF53 at 1024+56, a block size of 1-64 KiB and some inodes."""
    if len(head) < 1084 or head[1080:1082] != b"\x53\xef":
        return False
    inodes, log_block_size = struct.unpack_from("<I", head, 1024)[0], struct.unpack_from("<I", head, 1048)[0]
    return inodes > 0 and log_block_size <= 6
