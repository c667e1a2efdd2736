"""Build real disk images for the disk-image tests with the tools examiners' test data is made with.

Everything happens on plain files inside a pytest ``tmp_path``: no loop devices, no mounting, no root
file systems touched. Tools (Debian packages): ``mkfs.ext4``/``debugfs`` (e2fsprogs), ``mkfs.vfat``
(dosfstools), ``mcopy``/``mmd``/``mdel`` (mtools), ``sfdisk`` (fdisk), ``mkntfs``/``ntfscp`` (ntfs-3g),
``mkfs.exfat`` (exfatprogs), ``ewfacquire`` (ewf-tools). The files put into the images are benign:
seeded pseudo-random bytes and small PNGs drawn with Pillow, so every test knows the exact bytes.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import re
import subprocess
from pathlib import Path

from PIL import Image

SECTOR = 512
# mtools refuses images whose geometry it finds odd unless told not to check.
_ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1", "LC_ALL": "C"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run(*args: str | Path, stdin: bytes | None = None) -> str:
    """Run a tool; fail the test with its output when it fails."""
    proc = subprocess.run([str(a) for a in args], input=stdin, capture_output=True, env=_ENV, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, args))} failed ({proc.returncode}): "
            f"{proc.stdout.decode(errors='replace')} {proc.stderr.decode(errors='replace')}"
        )
    return proc.stdout.decode(errors="replace")


def png(seed: int, size: tuple[int, int] = (64, 48)) -> bytes:
    """A small, valid PNG whose pixels depend on `seed`."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    for _ in range(20):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        image.putpixel((x, y), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def blob(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def sample_files(seed: int) -> dict[str, bytes]:
    """The tree put into a file system: a picture folder, a nested folder and a multi-cluster file."""
    return {
        "DCIM/IMG_0001.PNG": png(seed),
        "DCIM/IMG_0002.PNG": png(seed + 1, (80, 60)),
        "DOCS/DEEP/NOTE.TXT": f"benign test note {seed}\n".encode(),
        "BIG.BIN": blob(seed, 300_000),  # many clusters/blocks: member streams must read it in pieces
    }


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def ext4_image(path: Path, files: dict[str, bytes], size_mib: int = 4, work: Path | None = None) -> Path:
    """A populated ext4 image (mkfs.ext4 -d copies a directory in without mounting)."""
    src = (work or path.parent) / f"{path.name}.d"
    write_tree(src, files)
    run(
        "mkfs.ext4",
        "-q",
        "-F",
        "-b",
        "1024",
        "-U",
        "00000000-0000-4000-8000-00000000e4e4",
        "-E",
        "root_owner=0:0",
        "-d",
        src,
        path,
        f"{size_mib}M",
    )
    return path


def ext_symlink(path: Path, link: str, target: str) -> None:
    run("debugfs", "-w", "-R", f"symlink {link} {target}", path)


def ext_delete(path: Path, name: str) -> None:
    """Delete like a careless user would: the name and inode are freed, the blocks keep the bytes."""
    run("debugfs", "-w", "-R", f"rm {name}", path)


def ext_delete_unrecoverable(path: Path, name: str) -> None:
    """Delete, then clear the inode (as a wiping tool or a reused inode would): nothing left to read."""
    stat = run("debugfs", "-R", f"stat {name}", path)
    match = re.search(r"Inode:\s*(\d+)", stat)
    assert match, stat
    inode = match.group(1)
    run("debugfs", "-w", "-R", f"rm {name}", path)
    run("debugfs", "-w", "-R", f"clri <{inode}>", path)


def fat_image(path: Path, files: dict[str, bytes], size_mib: int = 4, fat_bits: int = 16) -> Path:
    """A FAT image made with mkfs.vfat and filled with mtools (no mount). One sector per cluster keeps
    FAT16 possible on a small image (FAT16 needs at least 4085 clusters)."""
    run("mkfs.vfat", "-C", "-F", str(fat_bits), "-s", "1", "-i", "12345678", path, str(size_mib * 1024))
    dirs = sorted({str(Path(name).parent) for name in files} - {"."})
    for directory in dirs:
        parts = Path(directory).parts
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            proc = subprocess.run(["mmd", "-i", str(path), f"::/{sub}"], capture_output=True, env=_ENV)
            assert proc.returncode == 0 or b"exists" in proc.stderr + proc.stdout, proc.stderr
    tmp = path.parent / f"{path.name}.member"
    for name, data in files.items():
        tmp.write_bytes(data)
        run("mcopy", "-i", path, tmp, f"::/{name}")
    tmp.unlink()
    return path


def fat_delete(path: Path, name: str) -> None:
    run("mdel", "-i", path, f"::/{name}")


def ntfs_image(
    path: Path, files: dict[str, bytes], streams: dict[str, tuple[str, bytes]], size_mib: int = 8
) -> Path:
    """An NTFS image (mkntfs) with files in the root (ntfscp cannot create folders) and alternate data
    streams: ``streams[file] = (stream name, bytes)``."""
    with path.open("wb") as f:
        f.truncate(size_mib << 20)
    run("mkntfs", "-q", "-F", "-Q", "-s", "512", "-c", "4096", path)
    tmp = path.parent / f"{path.name}.member"
    for name, data in files.items():
        tmp.write_bytes(data)
        run("ntfscp", "-q", "-f", path, tmp, name)
    for name, (stream, data) in streams.items():
        tmp.write_bytes(data)
        run("ntfscp", "-q", "-f", "-N", stream, path, tmp, name)
    tmp.unlink()
    return path


def exfat_image(path: Path, size_mib: int = 4) -> Path:
    """An empty exFAT image (exfatprogs has no tool to put files in without mounting)."""
    with path.open("wb") as f:
        f.truncate(size_mib << 20)
    run("mkfs.exfat", "-L", "VIGIL", path)
    return path


def partitioned_disk(path: Path, parts: list[tuple[Path, str]], label: str = "dos") -> list[int]:
    """A disk with an MBR ("dos") or GPT partition table made by sfdisk, each partition holding one of
    the given file-system images (written in at its start sector, like ``dd conv=notrunc``).
    `parts` = [(image, sfdisk type)]. Returns the start sectors."""
    starts: list[int] = []
    sector = 2048
    script = [f"label: {label}"]
    for image, ptype in parts:
        sectors = image.stat().st_size // SECTOR
        starts.append(sector)
        script.append(f"start={sector}, size={sectors}, type={ptype}")
        sector += sectors
    total = (sector + 2048) * SECTOR  # room for the GPT backup table
    with path.open("wb") as f:
        f.truncate(total)
    run("sfdisk", "-q", "--no-reread", "--no-tell-kernel", path, stdin=("\n".join(script) + "\n").encode())
    with path.open("r+b") as disk:
        for (image, _), start in zip(parts, starts, strict=True):
            disk.seek(start * SECTOR)
            disk.write(image.read_bytes())
    return starts


def ewf_image(raw: Path, target: Path, segment_bytes: int | None = None, compress: bool = True) -> Path:
    """An EnCase 6 E01 of `raw` made by ewfacquire, unattended (-u). With `segment_bytes` (>= 1 MiB) and
    no compression it is split into E01, E02, ... Returns the path of the first segment."""
    args: list[str | Path] = [
        "ewfacquire",
        "-u",
        "-q",
        "-t",
        target,
        "-f",
        "encase6",
        "-c",
        "deflate:fast" if compress else "none",
        "-C",
        "case-1",
        "-D",
        "vigil test disk",
        "-e",
        "tester",
        "-E",
        "ev-1",
        "-N",
        "benign",
    ]
    if segment_bytes is not None:
        args += ["-S", str(segment_bytes)]
    run(*args, raw)
    first = target.with_name(target.name + ".E01")
    assert first.is_file(), f"ewfacquire made no {first}"
    return first


def split_raw(raw: Path, stem: Path, part_bytes: int) -> list[Path]:
    """``stem.001``, ``stem.002``, ... of `part_bytes` each, as ``split -d`` / FTK Imager write them."""
    data = raw.read_bytes()
    parts = []
    for number, offset in enumerate(range(0, len(data), part_bytes), start=1):
        part = stem.with_name(f"{stem.name}.{number:03d}")
        part.write_bytes(data[offset : offset + part_bytes])
        parts.append(part)
    return parts
