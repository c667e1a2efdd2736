"""The demo's evidence folder, laid out like a small seized drive, and its ground truth.

Every file written is described by one `Truth` row: its path below the evidence folder, how it was made
(`kind`) and, where it derives from a picture in the store, that picture's name and entry id.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .corpus import Picture, save

# The transformations applied to every known picture, in report order.
TRANSFORMS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "resized_50": lambda im: im.resize(
        (max(1, im.width // 2), max(1, im.height // 2)), Image.Resampling.LANCZOS
    ),
    "jpeg_q50": lambda im: im,  # the re-encoding at quality 50 is the change
    "flip_h": ImageOps.mirror,
    "rotate_90": lambda im: im.transpose(Image.Transpose.ROTATE_90),
    "crop_5pct": lambda im: im.crop(
        (round(im.width * 0.05), round(im.height * 0.05), round(im.width * 0.95), round(im.height * 0.95))
    ),
    "greyscale": lambda im: im.convert("L"),
}
TRUNCATE_AT = 0.4  # the damaged JPEG keeps this share of its bytes


@dataclass(frozen=True, slots=True)
class Truth:
    path: str  # below the evidence folder, with "/" separators
    kind: str  # exact, a TRANSFORMS name, unrelated, known_good, other, truncated or empty
    source: str | None = None  # the picture or file it was made from
    entry_id: int | None = None  # the store entry it should match


def exact_copies(root: Path, known: list[Picture], ids: dict[str, int], duplicates: int) -> list[Truth]:
    """Byte-exact copies of the known pictures: some renamed, some deep in subfolders, a few twice."""
    rows = []
    for i, pic in enumerate(known):
        ext = pic.path.suffix
        where = (
            f"DCIM/100DEMO/IMG_{1001 + i:04d}{ext.upper()}",
            f"Pictures/{pic.path.name}",
            f"Pictures/archive/{2019 + i % 3}/holiday/{pic.path.name}",
            f"Downloads/file-{i:03d}{ext}",
        )[i % 4]
        rows.append(_copy(pic.path, root / where, root, "exact", pic.name, ids[pic.name]))
    for pic in known[:duplicates]:
        where = f"Backup/old-phone/DCIM/{pic.path.name}"
        rows.append(_copy(pic.path, root / where, root, "exact", pic.name, ids[pic.name]))
    return rows


def transformed_copies(root: Path, known: list[Picture], ids: dict[str, int]) -> list[Truth]:
    """Every known picture once per transformation, below Pictures/edited/<transformation>/."""
    rows = []
    for pic in known:
        with Image.open(pic.path) as img:
            img.load()
            original = img.convert("RGB")
        for name, transform in TRANSFORMS.items():
            suffix = ".jpg" if name == "jpeg_q50" else pic.path.suffix
            dest = root / "Pictures" / "edited" / name / f"{pic.path.stem}{suffix}"
            dest.parent.mkdir(parents=True, exist_ok=True)
            save(transform(original), dest, quality=50 if name == "jpeg_q50" else 90)
            rows.append(Truth(_rel(dest, root), name, pic.name, ids[pic.name]))
    return rows


def unrelated_copies(root: Path, others: list[Picture]) -> list[Truth]:
    rows = []
    for i, pic in enumerate(others):
        where = (
            f"DCIM/100DEMO/IMG_{2001 + i:04d}{pic.path.suffix.upper()}"
            if i % 2
            else f"Pictures/other/{pic.path.name}"
        )
        rows.append(_copy(pic.path, root / where, root, "unrelated", pic.name, None))
    return rows


def known_good_files(folder: Path, pictures: list[Picture], seed: int) -> list[Path]:
    """Unrelated files a known-good list covers: a few text files and a couple of pictures."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for name, title in (
        ("licence.txt", "Demo software licence"),
        ("release-notes.txt", "Release notes"),
        ("driver-readme.txt", "Printer driver read-me"),
    ):
        lines = [title, "=" * len(title), ""]
        lines += [f"{n + 1}. item {int(v)}" for n, v in enumerate(rng.integers(0, 10**6, 20))]
        path = folder / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    for i, pic in enumerate(pictures):
        dest = folder / f"wallpaper-{i + 1}{pic.path.suffix}"
        shutil.copyfile(pic.path, dest)
        paths.append(dest)
    return paths


def known_good_copies(root: Path, files: list[Path], ids: dict[str, int]) -> list[Truth]:
    rows = []
    for path in files:
        sub = "Pictures/wallpapers" if path.suffix in (".jpg", ".png") else "Program Files/DemoApp"
        rows.append(_copy(path, root / sub / path.name, root, "known_good", path.name, ids[path.name]))
    return rows


def other_files(root: Path, seed: int) -> list[Truth]:
    """Files that are not pictures: text, CSV, JSON, HTML and random bytes."""
    rng = np.random.default_rng(seed)
    docs = root / "Documents"
    docs.mkdir(parents=True, exist_ok=True)
    contents: dict[str, bytes] = {
        "shopping-list.txt": b"apples\nbread\ncoffee\nlentils\n",
        "budget.csv": b"month,amount\n"
        + b"".join(
            f"{m},{int(v)}\n".encode() for m, v in zip(range(1, 13), rng.integers(100, 900, 12), strict=True)
        ),
        "settings.json": json.dumps({"theme": "dark", "volume": int(rng.integers(0, 100))}).encode(),
        "bookmark.html": b"<!doctype html><title>bookmarks</title><a href='https://example.org/'>example</a>\n",
        "backup.bin": rng.integers(0, 256, 65536, dtype=np.uint8).tobytes(),
    }
    rows = []
    for name, data in contents.items():
        (docs / name).write_bytes(data)
        rows.append(Truth(f"Documents/{name}", "other", None, None))
    return rows


def damaged_files(root: Path, picture: Picture) -> list[Truth]:
    """A JPEG cut off part-way through its data, and a zero-byte file named like a picture."""
    folder = root / "Pictures" / "damaged"
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with Image.open(picture.path) as img:
        img.convert("RGB").save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    (folder / "truncated.jpg").write_bytes(data[: int(len(data) * TRUNCATE_AT)])
    (folder / "empty.jpg").write_bytes(b"")
    return [
        Truth("Pictures/damaged/truncated.jpg", "truncated", picture.name, None),
        Truth("Pictures/damaged/empty.jpg", "empty", None, None),
    ]


def truth_rows(rows: list[Truth]) -> list[dict[str, object]]:
    return [asdict(r) for r in sorted(rows, key=lambda r: r.path)]


def _copy(src: Path, dest: Path, root: Path, kind: str, source: str, entry_id: int | None) -> Truth:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return Truth(_rel(dest, root), kind, source, entry_id)


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()
