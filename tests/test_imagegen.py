"""The benign test-image generator keeps its promises: deterministic, varied, good PDQ quality."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from PIL import Image

from tests.imagegen import KINDS, image_set_specs, make_image, make_image_set, render_image
from vigil.media import DecodeLimits, decode_rgb
from vigil.signals import get


@pytest.mark.parametrize("kind", KINDS)
def test_deterministic(kind: str, tmp_path: Path) -> None:
    a = make_image(tmp_path / "a.png", kind, seed=5, size=(120, 90))
    b = make_image(tmp_path / "b.png", kind, seed=5, size=(120, 90))
    assert a.read_bytes() == b.read_bytes()
    assert render_image(kind, 5, 64).tobytes() != render_image(kind, 6, 64).tobytes()
    with Image.open(a) as img:
        assert (img.size, img.mode) == ((120, 90), "RGB")


def test_formats_follow_the_suffix(tmp_path: Path) -> None:
    for suffix, fmt in (
        (".jpg", "JPEG"),
        (".png", "PNG"),
        (".gif", "GIF"),
        (".webp", "WEBP"),
        (".bmp", "BMP"),
    ):
        path = make_image(tmp_path / "sub" / f"x{suffix}", "shapes", 1, 64)
        with Image.open(path) as img:
            assert img.format == fmt


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown image kind 'photo'"):
        render_image("photo", 1)
    with pytest.raises(ValueError, match="at least 8x8"):
        render_image("noise", 1, (4, 100))


def test_image_set_is_distinct_with_good_quality(tmp_path: Path) -> None:
    pdq = get("pdq")
    paths = make_image_set(tmp_path, 32, size=(200, 150), fmt="jpg")
    assert [p.name for p in paths][:2] == ["0000-gradient-0.jpg", "0001-shapes-1.jpg"]
    assert len(set(image_set_specs(32))) == 32
    hashes = [pdq.compute_image(decode_rgb(p.read_bytes(), DecodeLimits())) for p in paths]
    assert min(h.quality or 0 for h in hashes) >= 50
    distances = [pdq.distance(a.value, b.value) for a, b in itertools.combinations(hashes, 2)]
    # Far beyond the match threshold (31); over 200 images per kind mix the minimum measured is 72.
    assert min(distances) > 64
