"""Deterministic benign test images: colour gradients, random shapes, smooth noise and text.

Every image is a pure function of (kind, seed, size), built with numpy and Pillow only. Different seeds
(and different kinds with the same seed) give unrelated pictures, so their PDQ hashes are about as far apart
as random 256-bit values (mean 128; measured over 200 images, 1 pair in 19,900 below 80 bits, none below 72)
and their PDQ quality is high (measured ≥ 80, mostly 100): each kind is drawn over a few cycles of random
low-frequency structure, which is what PDQ's 16×16 DCT sees.

    from tests.imagegen import make_image, make_image_set, render_image
    make_image(tmp_path / "a.jpg", "shapes", seed=3, size=(640, 480))
    paths = make_image_set(tmp_path / "evidence", 20)   # 20 distinct PNGs cycling through the kinds
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

KINDS: tuple[str, ...] = ("gradient", "shapes", "noise", "text")
Size = int | tuple[int, int]

_WORDS = [
    "harbour",
    "lantern",
    "meadow",
    "orchard",
    "pebble",
    "quartz",
    "river",
    "saddle",
    "timber",
    "violet",
    "walnut",
    "yonder",
    "amber",
    "birch",
    "cobalt",
    "dune",
    "ember",
    "fjord",
    "glacier",
    "heron",
    "island",
    "juniper",
    "kestrel",
    "lagoon",
    "maple",
    "nectar",
    "otter",
    "prairie",
    "quill",
    "reef",
    "summit",
    "tundra",
    "umber",
    "valley",
    "willow",
    "zephyr",
]


def _wh(size: Size) -> tuple[int, int]:
    width, height = (size, size) if isinstance(size, int) else size
    if width < 8 or height < 8:
        raise ValueError(f"image size must be at least 8x8, got {width}x{height}")
    return int(width), int(height)


def _rng(kind: str, seed: int) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(kind.encode()), int(seed)])


def _waves(
    rng: np.random.Generator,
    width: int,
    height: int,
    count: int,
    min_cycles: float = 1.0,
    max_cycles: float = 4.0,
) -> np.ndarray:
    """An H×W×3 float field in [0, 255]: a sum of random plane waves of min–max cycles per image.

    Each wave's colour is mostly a brightness change (one sign for all channels) so the luma PDQ hashes
    varies strongly, plus a random tint.
    """
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    x /= width
    y /= height
    field = np.zeros((height, width, 3), np.float32)
    for _ in range(count):
        angle = rng.uniform(0, 2 * np.pi)
        cycles = rng.uniform(min_cycles, max_cycles)
        phase = rng.uniform(0, 2 * np.pi)
        wave = np.sin(2 * np.pi * cycles * (x * np.cos(angle) + y * np.sin(angle)) + phase)
        colour = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.0) + rng.uniform(-0.4, 0.4, 3)
        field += wave[..., None] * colour.astype(np.float32)
    lo, hi = field.min(), field.max()
    return (field - lo) / max(float(hi - lo), 1e-6) * 255


def _to_image(field: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(field, 0, 255).astype(np.uint8), "RGB")


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in rng.integers(0, 256, 3))
    return r, g, b


def _gradient(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    count = int(rng.integers(6, 11))
    return _to_image(_waves(rng, width, height, count=count, min_cycles=0.5, max_cycles=6.0))


def _shapes(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    img = _to_image(_waves(rng, width, height, count=2, max_cycles=2.0) * 0.7 + 40)
    draw = ImageDraw.Draw(img)
    scale = min(width, height)
    for _ in range(int(rng.integers(8, 16))):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.08, 0.3) * scale
        box = (cx - r, cy - r * rng.uniform(0.4, 1.0), cx + r, cy + r * rng.uniform(0.4, 1.0))
        shape = rng.integers(0, 3)
        if shape == 0:
            draw.ellipse(box, fill=_colour(rng))
        elif shape == 1:
            draw.rectangle(box, fill=_colour(rng))
        else:
            n = int(rng.integers(3, 7))
            angles = np.sort(rng.uniform(0, 2 * np.pi, n))
            points = [(cx + r * np.cos(a), cy + r * np.sin(a)) for a in angles]
            draw.polygon(points, fill=_colour(rng))
    return img


def _noise(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """Value noise: a coarse random grid upscaled smoothly, plus a little fine grain."""
    cells = int(rng.integers(5, 11))
    luma = rng.uniform(0, 255, (cells, cells, 1))
    coarse = (0.7 * luma + 0.3 * rng.uniform(0, 255, (cells, cells, 3))).astype(np.uint8)
    smooth = np.asarray(Image.fromarray(coarse, "RGB").resize((width, height), Image.Resampling.BICUBIC))
    grain = rng.normal(0, 12, (height, width, 3))
    return _to_image(smooth.astype(np.float32) + grain)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font, scaled up below
        return ImageFont.load_default()


def _text(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    img = _to_image(_waves(rng, width, height, count=2, max_cycles=3.0) * 0.7 + 40)
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(5, 9))):
        words = " ".join(str(w) for w in rng.choice(_WORDS, int(rng.integers(1, 4))))
        font_size = max(8, int(min(width, height) * rng.uniform(0.08, 0.18)))
        font = _font(font_size)
        xy = (rng.uniform(-0.1, 0.7) * width, rng.uniform(-0.05, 0.9) * height)
        stroke = 1 + font_size // 16
        draw.text(xy, words, fill=_colour(rng), font=font, stroke_width=stroke, stroke_fill=_colour(rng))
    return img


_RENDER = {"gradient": _gradient, "shapes": _shapes, "noise": _noise, "text": _text}


def render_image(kind: str, seed: int, size: Size = 256) -> Image.Image:
    """The RGB image for (kind, seed, size); the same arguments always give the same pixels."""
    try:
        render = _RENDER[kind]
    except KeyError:
        raise ValueError(f"unknown image kind {kind!r} (known: {', '.join(KINDS)})") from None
    width, height = _wh(size)
    return render(_rng(kind, seed), width, height)


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
