"""Small greyscale thumbnails of matched images for report.html.

Greyscale in the pixels themselves, so no viewer (one without CSS, an image viewer opening a saved
thumbnail) ever shows colour. Only common raster formats are opened: Pillow's EPS reader would run Ghostscript
on evidence, and other rare decoders are attack surface a thumbnail does not need.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps

FORMATS = ("JPEG", "PNG", "GIF", "BMP", "WEBP", "TIFF", "PPM", "ICO", "MPO")
QUALITY = 70


def make_thumbnail(data: bytes, size: int = 160, max_pixels: int = 178_956_970) -> bytes | None:
    """JPEG bytes of a greyscale ("L") thumbnail fitting size×size, or None when `data` is not a decodable
    image of at most `max_pixels` pixels. Never raises."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as img:
                width, height = img.size
                if width * height > max_pixels or size < 1:
                    return None
                if img.format in ("JPEG", "MPO"):
                    img.draft("L", (size, size))  # decode at 1/2, 1/4 or 1/8 scale, straight to grey
                img.load()
                grey = _upright(img).convert("L")
                grey.thumbnail((size, size))
                out = io.BytesIO()
                grey.save(out, "JPEG", quality=QUALITY)
                return out.getvalue()
    except Exception:  # undecodable, truncated, too large, hostile: no thumbnail, never an error
        return None


def _upright(img: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says; as it is when that tag cannot be read."""
    try:
        return ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block should cost the orientation, not the thumbnail
        return img
