"""Benign demo pictures: generated ones (gradients, shapes, noise, text, tiles, rings) and samples.

Every generated picture is a pure function of its kind, a seeded random generator and its size, drawn over
a few cycles of random low-frequency structure so that PDQ (which looks at a 16×16 DCT of the luma) gives
it a high quality score and a hash unrelated to the others. The scikit-image samples are read straight
from the files that ship inside the installed `skimage.data` package, so nothing is ever downloaded;
samples that show people (astronaut, camera) are never used.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from importlib import resources

import numpy as np
from PIL import Image, ImageDraw, ImageFont

KINDS: tuple[str, ...] = ("gradient", "shapes", "noise", "text", "tiles", "rings")

# Sample name -> file shipped in skimage/data. None of them shows a person (astronaut, camera and the
# face samples are never used). Fine textures and small scans (gravel, brick, grass, page, colorwheel,
# chessboard) are left out too: their PDQ hashes move by 30-90 bits under a flip or a 50 % resize, so
# they would measure the picture, not the matcher.
SKIMAGE_SAMPLES: dict[str, str] = {
    "coffee": "coffee.png",
    "chelsea": "chelsea.png",
    "rocket": "rocket.jpg",
    "coins": "coins.png",
    "moon": "moon.png",
    "text": "text.png",
    "horse": "horse.png",
    "hubble_deep_field": "hubble_deep_field.jpg",
    "immunohistochemistry": "ihc.png",
    "logo": "logo.png",
    "motorcycle": "motorcycle_left.png",
    "cell": "cell.png",
}

_WORDS = (
    *("harbour", "lantern", "meadow", "orchard", "pebble", "quartz", "river", "saddle", "timber"),
    *("violet", "walnut", "amber", "birch", "cobalt", "dune", "ember", "fjord", "glacier", "heron"),
    *("island", "juniper", "kestrel", "lagoon", "maple", "nectar", "otter", "prairie", "quill"),
    *("reef", "summit", "tundra", "valley", "willow", "zephyr"),
)


def rng_for(kind: str, seed: int) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(kind.encode()), seed])


def random_size(rng: np.random.Generator, lo: int = 300, hi: int = 1600) -> tuple[int, int]:
    """A width and height between `lo` and `hi`, aspect 1:1 to 16:9, in landscape or portrait."""
    long_side = int(rng.integers(round(lo * 4 / 3), hi + 1))
    short_side = max(lo, int(long_side * rng.uniform(0.56, 1.0)))
    return (long_side, short_side) if rng.random() < 0.6 else (short_side, long_side)


def render(kind: str, rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """The RGB picture of `kind` drawn with `rng` at `size` (width, height)."""
    try:
        draw = _RENDER[kind]
    except KeyError:
        raise ValueError(f"unknown picture kind {kind!r} (known: {', '.join(KINDS)})") from None
    return draw(rng, *size)


def skimage_sample(name: str) -> Image.Image | None:
    """A scikit-image sample as RGB, or None when this scikit-image does not ship its file."""
    try:
        ref = resources.files("skimage.data").joinpath(SKIMAGE_SAMPLES[name])
        with resources.as_file(ref) as path, Image.open(path) as img:
            img.load()
            if img.mode in ("RGBA", "LA", "P"):
                rgba = img.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (255, 255, 255))
                flat.paste(rgba, mask=rgba.getchannel("A"))
                return flat
            return img.convert("RGB")
    except (OSError, ModuleNotFoundError):
        return None


# ---- generators ---------------------------------------------------------------------------------------


def _waves(
    rng: np.random.Generator, width: int, height: int, count: int, min_cycles: float, max_cycles: float
) -> np.ndarray:
    """An H×W×3 float field in [0, 255]: a sum of random plane waves, mostly brightness with some tint."""
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
    lo, hi = float(field.min()), float(field.max())
    return (field - lo) / max(hi - lo, 1e-6) * 255


def _image(field: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(field, 0, 255).astype(np.uint8), "RGB")


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in rng.integers(0, 256, 3))
    return r, g, b


def _gradient(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    return _image(_waves(rng, width, height, int(rng.integers(8, 14)), 0.5, 7.0))


def _shapes(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    img = _image(_waves(rng, width, height, 2, 1.0, 2.0) * 0.7 + 40)
    draw = ImageDraw.Draw(img)
    scale = min(width, height)
    for _ in range(int(rng.integers(8, 16))):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.08, 0.3) * scale
        box = (cx - r, cy - r * rng.uniform(0.4, 1.0), cx + r, cy + r * rng.uniform(0.4, 1.0))
        shape = int(rng.integers(0, 3))
        if shape == 0:
            draw.ellipse(box, fill=_colour(rng))
        elif shape == 1:
            draw.rectangle(box, fill=_colour(rng))
        else:
            angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(3, 7))))
            draw.polygon([(cx + r * np.cos(a), cy + r * np.sin(a)) for a in angles], fill=_colour(rng))
    return img


def _noise(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """Value noise: a coarse random grid upscaled smoothly, plus fine grain."""
    cells = int(rng.integers(12, 21))
    luma = rng.uniform(0, 255, (cells, cells, 1))
    coarse = (0.7 * luma + 0.3 * rng.uniform(0, 255, (cells, cells, 3))).astype(np.uint8)
    smooth = np.asarray(Image.fromarray(coarse, "RGB").resize((width, height), Image.Resampling.BICUBIC))
    grain = rng.normal(0, 6, (height, width, 3)).astype(np.float32)
    return _image(smooth.astype(np.float32) + grain)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):  # Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


def _text(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    img = _image(_waves(rng, width, height, 4, 1.0, 5.0) * 0.7 + 40)
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(5, 9))):
        words = " ".join(str(w) for w in rng.choice(_WORDS, int(rng.integers(1, 4))))
        font_size = max(8, int(min(width, height) * rng.uniform(0.1, 0.22)))
        xy = (rng.uniform(-0.1, 0.7) * width, rng.uniform(-0.05, 0.9) * height)
        stroke = 1 + font_size // 16
        draw.text(
            xy, words, fill=_colour(rng), font=_font(font_size), stroke_width=stroke, stroke_fill=_colour(rng)
        )
    return img


def _tiles(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """A mosaic: a coarse grid of random colours, each tile shaded by its own linear ramp."""
    cols, rows = int(rng.integers(4, 10)), int(rng.integers(4, 10))
    colours = rng.uniform(0, 255, (rows, cols, 3)).astype(np.float32)
    slopes = rng.uniform(-1, 1, (rows, cols, 2)).astype(np.float32)
    ys = (np.arange(height) * rows // height)[:, None]
    xs = (np.arange(width) * cols // width)[None, :]
    fy = (np.arange(height, dtype=np.float32) * rows / height % 1)[:, None] - 0.5
    fx = (np.arange(width, dtype=np.float32) * cols / width % 1)[None, :] - 0.5
    ramp = (slopes[ys, xs, 0] * fx + slopes[ys, xs, 1] * fy) * 160
    return _image(colours[ys, xs] + ramp[..., None])


def _rings(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """Interfering concentric rings around a few random centres."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    field = np.zeros((height, width, 3), np.float32)
    for _ in range(int(rng.integers(2, 5))):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        radius = np.hypot(x - cx, y - cy) / max(width, height)
        wave = np.sin(2 * np.pi * rng.uniform(1.5, 5.0) * radius + rng.uniform(0, 2 * np.pi))
        colour = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.0) + rng.uniform(-0.4, 0.4, 3)
        field += wave[..., None] * colour.astype(np.float32)
    lo, hi = float(field.min()), float(field.max())
    return _image((field - lo) / max(hi - lo, 1e-6) * 255)


_RENDER: dict[str, Callable[[np.random.Generator, int, int], Image.Image]] = {
    "gradient": _gradient,
    "shapes": _shapes,
    "noise": _noise,
    "text": _text,
    "tiles": _tiles,
    "rings": _rings,
}
