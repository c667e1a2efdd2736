"""make_thumbnail: small greyscale JPEGs, or None for anything it cannot or should not decode."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.report.scanfolder import colour_image
from vigil.report.thumbs import make_thumbnail


def decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "BMP", "WEBP", "TIFF"])
def test_greyscale_jpeg_within_size(fmt: str) -> None:
    data = make_thumbnail(colour_image((640, 400), fmt), size=160)
    assert data is not None
    img = decode(data)
    assert img.format == "JPEG"
    assert img.mode == "L"
    assert max(img.size) == 160
    assert img.size[0] / img.size[1] == pytest.approx(640 / 400, rel=0.02)


def test_small_images_are_not_enlarged() -> None:
    img = decode(make_thumbnail(colour_image((40, 30), "PNG")) or b"")
    assert img.size == (40, 30)


def test_transparent_and_palette_images() -> None:
    rgba = Image.new("RGBA", (100, 80), (255, 0, 0, 0))
    buf = io.BytesIO()
    rgba.save(buf, "PNG")
    assert decode(make_thumbnail(buf.getvalue()) or b"").mode == "L"
    buf = io.BytesIO()
    Image.open(io.BytesIO(colour_image((100, 80), "PNG"))).convert("P").save(buf, "PNG")
    assert decode(make_thumbnail(buf.getvalue()) or b"").mode == "L"


def test_large_jpeg_uses_draft_decoding() -> None:
    data = colour_image((4000, 3000), "JPEG")
    thumb = make_thumbnail(data, size=200)
    assert thumb is not None
    assert decode(thumb).size == (200, 150)


def test_exif_orientation_is_applied() -> None:
    img = Image.open(io.BytesIO(colour_image((300, 100), "JPEG")))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90° clockwise: shown portrait
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    assert decode(make_thumbnail(buf.getvalue()) or b"").size == (53, 160)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not an image at all",
        b"\xff\xd8\xff\xe0" + b"\x00" * 50,  # a JPEG header and nothing else
        colour_image((200, 200), "JPEG")[:300],  # truncated
        colour_image((200, 200), "PNG")[:-40],  # truncated
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n",  # never handed to Ghostscript
    ],
)
def test_undecodable_gives_none(data: bytes) -> None:
    assert make_thumbnail(data) is None


def test_pixel_limit_is_refused_before_decoding() -> None:
    data = colour_image((300, 200), "PNG")
    assert make_thumbnail(data, max_pixels=300 * 200) is not None
    assert make_thumbnail(data, max_pixels=300 * 200 - 1) is None


def test_pixels_are_grey_even_from_a_saturated_image() -> None:
    red = np.zeros((64, 64, 3), np.uint8)
    red[..., 0] = 255
    buf = io.BytesIO()
    Image.fromarray(red, "RGB").save(buf, "PNG")
    img = decode(make_thumbnail(buf.getvalue()) or b"")
    assert img.mode == "L"
    rgb = np.asarray(img.convert("RGB"))
    assert (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()
