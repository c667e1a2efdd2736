"""DiskImage on real images built by Debian's own tools (see diskimages.py): every listed member must
have exactly the bytes that were put in, deleted files must come back flagged, and damaged images must
give reasons, not crashes. The images are built once per module (they take well under a second)."""

from __future__ import annotations

import io
import random
import shutil
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.sources import diskimages as d
from vigil.sources.base import ContainerError, Limits, Member, Problem
from vigil.sources.disk import DiskImage
from vigil.sources.disk.image import open_source

BASIC_DATA_GUID = "EBD0A0A2-B9E5-4433-87C0-68B9B6A1E0C7"
LINUX_GUID = "0FC63DAF-8483-4772-8E79-3D69C8D4B2F1"


@dataclass
class Images:
    root: Path
    ext_files: dict[str, bytes]
    fat_files: dict[str, bytes]
    ntfs_png: bytes
    ext: Path
    fat: Path
    ntfs: Path
    exfat: Path
    mbr: Path
    gpt: Path
    e01: Path
    e01_segments: Path
    split: list[Path]


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Images:
    root = tmp_path_factory.mktemp("disks")
    ext_files = d.sample_files(1)
    ext = d.ext4_image(root / "ext4.img", ext_files)
    d.ext_symlink(ext, "/link", "DCIM/IMG_0001.PNG")
    d.ext_delete(ext, "/BIG.BIN")  # blocks keep the bytes: recoverable
    d.ext_delete_unrecoverable(ext, "/DOCS/DEEP/NOTE.TXT")  # inode cleared: nothing to recover

    fat_files = d.sample_files(2)
    fat = d.fat_image(root / "fat16.img", fat_files)
    d.fat_delete(fat, "DCIM/IMG_0002.PNG")

    ntfs_png = d.png(5)
    ntfs = d.ntfs_image(root / "ntfs.img", {"A.PNG": ntfs_png}, {"A.PNG": ("hidden", b"stream bytes")})
    exfat = d.exfat_image(root / "exfat.img")

    mbr = root / "mbr.dd"
    d.partitioned_disk(mbr, [(fat, "c"), (ext, "83")])
    gpt = root / "gpt.raw"
    d.partitioned_disk(gpt, [(fat, BASIC_DATA_GUID), (ntfs, BASIC_DATA_GUID), (ext, LINUX_GUID)], label="gpt")
    e01 = d.ewf_image(mbr, root / "mbr")
    e01_segments = d.ewf_image(mbr, root / "segmented", segment_bytes=1 << 20, compress=False)
    split = d.split_raw(mbr, root / "split.raw", 3 << 20)
    return Images(
        root, ext_files, fat_files, ntfs_png, ext, fat, ntfs, exfat, mbr, gpt, e01, e01_segments, split
    )


@dataclass(frozen=True)
class Seen:
    sha256: str
    size: int
    deleted: bool
    warning: str | None


def listing(
    path: Path, *, use_path: bool = True, limits: Limits | None = None, evidence: list[Path] | None = None
) -> tuple[dict[str, Seen], list[Problem], list[str]]:
    """Open `path` like the scanner does, read every member in full, and check that no evidence file
    changed while doing so. Returns members by name, problems, and the order of all names."""
    evidence = evidence or [path]
    before = {p: d.file_sha256(p) for p in evidence}
    members: dict[str, Seen] = {}
    problems: list[Problem] = []
    order: list[str] = []
    with path.open("rb") as stream:
        image = DiskImage(stream, path.name, limits or Limits(), str(path) if use_path else None)
        try:
            for entry in image.entries():
                order.append(entry.name)
                if isinstance(entry, Member):
                    with entry.open() as f:
                        data = f.read()
                    assert len(data) == entry.size, entry.name
                    members[entry.name] = Seen(d.sha256(data), entry.size, entry.deleted, entry.warning)
                else:
                    problems.append(entry)
        finally:
            image.close()
    assert {p: d.file_sha256(p) for p in evidence} == before, "reading changed the evidence"
    return members, problems, order


def expect(
    files: dict[str, bytes], prefix: str = "", deleted: set[str] | frozenset[str] = frozenset()
) -> dict[str, Seen]:
    return {
        prefix + name: Seen(d.sha256(data), len(data), name in deleted, None) for name, data in files.items()
    }


def problem(problems: list[Problem], name: str) -> Problem:
    found = [p for p in problems if p.name == name]
    assert found, f"no problem for {name}: {problems}"
    return found[0]


def ext_expected(images: Images, prefix: str = "") -> dict[str, Seen]:
    files = {k: v for k, v in images.ext_files.items() if k != "DOCS/DEEP/NOTE.TXT"}
    return expect(files, prefix, deleted={"BIG.BIN"})


def fat_expected(images: Images, prefix: str = "") -> dict[str, Seen]:
    files = dict(images.fat_files)
    # A deleted FAT short name has lost its first byte; TSK shows it as "_".
    files["DCIM/_MG_0002.PNG"] = files.pop("DCIM/IMG_0002.PNG")
    return expect(files, prefix, deleted={"DCIM/_MG_0002.PNG"})


def check_ext_problems(problems: list[Problem], prefix: str = "") -> None:
    link = problem(problems, prefix + "link")
    assert link.reason == "symbolic link to DCIM/IMG_0001.PNG (not followed)"
    assert not link.deleted
    gone = problem(problems, prefix + "DOCS/DEEP/NOTE.TXT")
    assert gone.deleted and gone.reason.startswith("deleted, content not recoverable")


def test_bare_ext4_lists_files_deleted_file_symlink_and_cleared_inode(images: Images) -> None:
    members, problems, order = listing(images.ext)
    assert members == ext_expected(images)
    assert members["BIG.BIN"].deleted  # deleted with debugfs rm, bytes recovered exactly
    check_ext_problems(problems)
    assert len(problems) == 2
    # Stable order: per directory, files by name, then subdirectories.
    assert order == ["BIG.BIN", "link", "DCIM/IMG_0001.PNG", "DCIM/IMG_0002.PNG", "DOCS/DEEP/NOTE.TXT"]


def test_bare_fat16_recovers_deleted_file(images: Images) -> None:
    members, problems, _ = listing(images.fat)
    assert members == fat_expected(images)
    assert problems == []  # $MBR/$FAT1/$FAT2 virtual files are not members


def test_bare_ntfs_lists_file_and_alternate_data_stream_but_no_system_files(images: Images) -> None:
    members, problems, _ = listing(images.ntfs)
    assert members == {
        "A.PNG": Seen(d.sha256(images.ntfs_png), len(images.ntfs_png), False, None),
        "A.PNG:hidden": Seen(d.sha256(b"stream bytes"), 12, False, "NTFS alternate data stream"),
    }
    assert problems == []


def test_empty_exfat_opens(images: Images) -> None:
    members, problems, _ = listing(images.exfat)
    # TSK shows exFAT's allocation bitmap, up-case table and label as files of the root; nothing else.
    assert set(members) == {"$ALLOC_BITMAP", "$UPCASE_TABLE", "VIGIL (Volume Label Entry)"}
    assert problems == []


def test_mbr_disk_with_fat_and_ext4_partitions(images: Images) -> None:
    members, problems, _ = listing(images.mbr)
    assert members == {**fat_expected(images, "p1/"), **ext_expected(images, "p2/")}
    check_ext_problems(problems, "p2/")
    assert len(problems) == 2


def test_gpt_disk_read_through_a_stream_without_path(images: Images) -> None:
    """path=None is how an image nested in an archive arrives: everything comes through the stream."""
    members, problems, _ = listing(images.gpt, use_path=False)
    ntfs = {
        "p2/A.PNG": Seen(d.sha256(images.ntfs_png), len(images.ntfs_png), False, None),
        "p2/A.PNG:hidden": Seen(d.sha256(b"stream bytes"), 12, False, "NTFS alternate data stream"),
    }
    assert members == {**fat_expected(images, "p1/"), **ntfs, **ext_expected(images, "p3/")}
    check_ext_problems(problems, "p3/")


def test_e01_gives_the_same_members_as_the_raw_image(images: Images) -> None:
    raw = listing(images.mbr)
    assert listing(images.e01) == raw
    assert listing(images.e01, use_path=False) == raw  # libewf reading the caller's stream
    segments = sorted(images.root.glob("segmented.E*"))
    assert len(segments) >= 3  # E01, E02, E03, ...
    assert listing(images.e01_segments, evidence=segments) == raw


def test_e01_media_bytes_equal_the_raw_image(images: Images) -> None:
    with images.e01_segments.open("rb") as stream:
        source = open_source(stream, str(images.e01_segments))
        try:
            assert source.size == images.mbr.stat().st_size
            assert d.sha256(source.read(0, source.size)) == d.file_sha256(images.mbr)
        finally:
            source.close()


def test_split_raw_image(images: Images) -> None:
    assert len(images.split) == 4
    raw = listing(images.mbr)
    assert listing(images.split[0], evidence=images.split) == raw


def test_first_part_of_a_split_image_alone_is_a_truncated_partition_table(images: Images) -> None:
    """Only the first 3 MiB of the disk (as when .002... are missing, or the image is nested in an
    archive): TSK rejects a DOS table whose entries start past the end, and the reason says so."""
    with pytest.raises(
        ContainerError,
        match=r"partition table cannot be read \(corrupt, or the image is "
        r"truncated: it has 3145728 bytes\)",
    ):
        listing(images.split[0], use_path=False)


def test_detect(images: Images) -> None:
    def head(path: Path) -> bytes:
        with path.open("rb") as f:
            return f.read(4096)

    for path in (
        images.ext,
        images.fat,
        images.ntfs,
        images.exfat,
        images.mbr,
        images.gpt,
        images.e01,
        images.e01_segments,
        images.split[0],
    ):
        assert DiskImage.detect(head(path), path.name), path.name
        # The name helps but is not needed for these.
        assert DiskImage.detect(head(path), "evidence"), path.name
    second_segment = images.root / "segmented.E02"
    assert not DiskImage.detect(head(second_segment), second_segment.name)  # read as part of the E01
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("a.txt", "hello")
    for name, data in [
        ("a.png", d.png(9)),
        ("a.zip", zipped.getvalue()),
        ("a.txt", b"just some text\n" * 400),
        ("a.bin", d.blob(3, 4096)),
        ("empty.dd", b""),
    ]:
        assert not DiskImage.detect(data, name), name


def test_truncated_e01_is_a_container_error(images: Images, tmp_path: Path) -> None:
    truncated = tmp_path / "cut.E01"
    truncated.write_bytes(images.e01.read_bytes()[: images.e01.stat().st_size // 2])
    for use_path in (True, False):
        with pytest.raises(ContainerError, match="truncated or a segment file is missing") as info:
            listing(truncated, use_path=use_path)
        assert "\n" not in str(info.value)


def test_e01_with_missing_segments_is_a_container_error(images: Images, tmp_path: Path) -> None:
    alone = tmp_path / "alone.E01"
    shutil.copyfile(images.e01_segments, alone)
    with pytest.raises(ContainerError, match="truncated or a segment file is missing"):
        listing(alone)


def test_unreadable_partition_is_a_problem_and_the_others_are_listed(images: Images, tmp_path: Path) -> None:
    disk = tmp_path / "bad-p2.dd"
    starts = d.partitioned_disk(disk, [(images.fat, "c"), (images.ext, "83")])
    with disk.open("r+b") as f:  # wipe the ext4 superblock of partition 2
        f.seek(starts[1] * d.SECTOR + 1024)
        f.write(bytes(1024))
    members, problems, _ = listing(disk)
    assert members == fat_expected(images, "p1/")
    assert len(problems) == 1
    assert problems[0].name == "p2"
    assert "no readable file system" in problems[0].reason and "Linux" in problems[0].reason


def test_corrupt_partition_table_entries_are_problems(images: Images, tmp_path: Path) -> None:
    disk = tmp_path / "bad-length.dd"
    d.partitioned_disk(disk, [(images.fat, "c"), (images.ext, "83")])
    with disk.open("r+b") as f:  # partition 1: a length of 2 TiB on a 12 MiB disk
        f.seek(446 + 12)
        f.write(struct.pack("<I", 0xFFFFFFFF))
    members, problems, _ = listing(disk)
    # The file system at its start is intact and still listed, with a problem saying what is wrong.
    assert members == {**fat_expected(images, "p1/"), **ext_expected(images, "p2/")}
    assert "extends past the end of the image" in problem(problems, "p1").reason

    disk = tmp_path / "bad-start.dd"
    d.partitioned_disk(disk, [(images.fat, "c"), (images.ext, "83")])
    with disk.open("r+b") as f:  # partition 1 starts at sector 7: no file system there
        f.seek(446 + 8)
        f.write(struct.pack("<I", 7))
    members, problems, _ = listing(disk)
    assert members == ext_expected(images, "p2/")
    reason = problem(problems, "p1").reason
    assert (
        reason.startswith("partition 1 (Win95 FAT32 (0x0c), sectors 7-")
        and "no readable file system" in reason
    )


def test_unrecognised_bytes_are_a_container_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.img"
    junk.write_bytes(d.blob(7, 1 << 20))
    with pytest.raises(ContainerError, match="no partition table or file system") as info:
        listing(junk)
    assert "\n" not in str(info.value)
    empty = tmp_path / "empty.img"
    empty.write_bytes(b"")
    with pytest.raises(ContainerError, match="empty"):
        listing(empty)


def test_member_limit(images: Images) -> None:
    members, problems, order = listing(images.mbr, limits=Limits(max_members=3))
    assert len(members) == 3
    assert len(order) == 4
    assert problems[-1].reason == "member limit reached (3); rest not listed"
    assert problems[-1].name == "…"


def test_member_stream_reads_in_pieces_and_seeks(images: Images) -> None:
    big = images.fat_files["BIG.BIN"]
    with images.fat.open("rb") as stream:
        image = DiskImage(stream, "fat16.img", Limits(), str(images.fat))
        member = next(e for e in image.entries() if e.name == "BIG.BIN")
        assert isinstance(member, Member)
        with member.open() as a, member.open() as b:
            assert a.read(1000) == big[:1000]
            assert b.read(10) == big[:10]  # independent streams
            a.seek(250_000)
            assert a.read() == big[250_000:]
            assert a.read(5) == b""
        reader = member.open()
        image.close()
        with pytest.raises((OSError, ValueError)):
            reader.read()  # after close: a clean error, never a crash


@pytest.mark.parametrize("seed", range(6))
def test_damaged_images_give_members_problems_or_container_error(
    images: Images, tmp_path: Path, seed: int
) -> None:
    """Overwrite random bytes in the metadata areas of the MBR disk (partition table, boot sectors, FATs,
    superblocks, inode tables, directories): the result must only ever be members, problems, a
    ContainerError or a read OSError, never another exception."""
    rng = random.Random(seed)
    data = bytearray(images.mbr.read_bytes())
    hot = [(0, 1024), (1 << 20, (1 << 20) + 200_000), (5 << 20, (5 << 20) + 300_000)]
    for _ in range(60):
        start, end = rng.choice(hot)
        at = rng.randrange(start, end)
        length = rng.randrange(1, 16)
        data[at : at + length] = rng.randbytes(length)
    damaged = tmp_path / "damaged.dd"
    damaged.write_bytes(bytes(data))
    with damaged.open("rb") as stream:
        image = DiskImage(stream, damaged.name, Limits(max_members=10_000), str(damaged))
        try:
            for entry in image.entries():
                assert isinstance(entry, Member | Problem)
                if isinstance(entry, Member):
                    try:
                        with entry.open() as f:
                            while f.read(1 << 16):
                                pass
                    except OSError:
                        pass
        except ContainerError as exc:
            assert str(exc) and "\n" not in str(exc)
        finally:
            image.close()
