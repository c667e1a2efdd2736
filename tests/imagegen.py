"""Deterministic benign test images: gradients, random shapes, smooth noise and text.

The pictures are drawn by vigil's own demo generators (`vigil.demo.images`), seeded from (kind, seed), so
every image is a pure function of (kind, seed, size). Different seeds give unrelated pictures whose PDQ
hashes are far apart, with high PDQ quality (checked by tests/test_imagegen.py).

    from tests.imagegen import make_image, make_image_set, render_image
    make_image(tmp_path / "a.jpg", "shapes", seed=3, size=(640, 480))
    paths = make_image_set(tmp_path / "evidence", 20)   # 20 distinct PNGs cycling through the kinds
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from vigil.demo import images

KINDS: tuple[str, ...] = ("gradient", "shapes", "noise", "text")
Size = int | tuple[int, int]


def _wh(size: Size) -> tuple[int, int]:
    width, height = (size, size) if isinstance(size, int) else size
    if width < 8 or height < 8:
        raise ValueError(f"image size must be at least 8x8, got {width}x{height}")
    return int(width), int(height)


def render_image(kind: str, seed: int, size: Size = 256) -> Image.Image:
    """The RGB image for (kind, seed, size); the same arguments always give the same pixels."""
    if kind not in KINDS:
        raise ValueError(f"unknown image kind {kind!r} (known: {', '.join(KINDS)})")
    return images.render(kind, images.rng_for(kind, seed), _wh(size))


def make_image(path: str | Path, kind: str, seed: int, size: Size = 256, **save: object) -> Path:
    """Write render_image(kind, seed, size) to `path`; the format follows the suffix (.png, .jpg, .gif, ...).

    JPEGs are written at quality 90 unless `save` says otherwise; extra keywords go to Pillow's save().
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img = render_image(kind, seed, size)
    if path.suffix.lower() in (".jpg", ".jpeg"):
        save.setdefault("quality", 90)
    img.save(path, **save)  # type: ignore[arg-type]
    return path


def image_set_specs(n: int, kinds: Sequence[str] = KINDS, start_seed: int = 0) -> list[tuple[str, int]]:
    """(kind, seed) for n distinct images, cycling through `kinds`."""
    return [(kinds[i % len(kinds)], start_seed + i) for i in range(n)]


def make_image_set(
    directory: str | Path,
    n: int,
    *,
    size: Size = 256,
    fmt: str = "png",
    kinds: Sequence[str] = KINDS,
    start_seed: int = 0,
) -> list[Path]:
    """Write n distinct images named ``<index>-<kind>-<seed>.<fmt>`` into `directory`; returns their paths."""
    directory = Path(directory)
    return [
        make_image(directory / f"{i:04d}-{kind}-{seed}.{fmt}", kind, seed, size)
        for i, (kind, seed) in enumerate(image_set_specs(n, kinds, start_seed))
    ]
