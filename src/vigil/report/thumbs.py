"""Small greyscale thumbnails of matched images for report.html (greyscale in the pixels themselves)."""

from __future__ import annotations

import io
import warnings

from PIL import Image


def make_thumbnail(data: bytes, size: int = 160, max_pixels: int = 178_956_970) -> bytes | None:
    """JPEG bytes of a greyscale thumbnail fitting size×size, or None if the data is not a decodable image."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                if width * height > max_pixels:
                    return None
                if img.format == "JPEG":
                    img.draft("L", (size, size))
                grey = img.convert("L")
                grey.thumbnail((size, size))
                out = io.BytesIO()
                grey.save(out, "JPEG", quality=70)
                return out.getvalue()
    except Exception:  # any undecodable input simply has no thumbnail
        return None
