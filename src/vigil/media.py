"""Media-type sniffing and bounded image decoding."""

from __future__ import annotations

import io
import mimetypes
import warnings
from dataclasses import dataclass
from typing import BinaryIO

import filetype
import numpy as np
from PIL import Image, UnidentifiedImageError

from vigil.core.errors import HashError

# Pillow formats vigil decodes for perceptual hashing.
DECODABLE = {
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/bmp",
    "image/webp",
    "image/tiff",
    "image/x-icon",
    "image/vnd.microsoft.icon",
}
SNIFF_BYTES = 8192


def sniff(head: bytes, name: str = "") -> str:
    """The media type of a file from its first bytes, falling back to its name; never raises."""
    if not head:
        return "application/x-empty"
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


def is_video(media_type: str) -> bool:
    return media_type.startswith("video/")


def is_decodable_image(media_type: str) -> bool:
    return media_type in DECODABLE


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    max_pixels: int = 178_956_970
    decode_size: int = 512


def decode_rgb(data: bytes | BinaryIO, limits: DecodeLimits) -> np.ndarray:
    """Decode an image to an H×W×3 uint8 array, at reduced size where that keeps PDQ conformance.

    JPEGs use libjpeg's DCT scaling (Pillow draft mode, aspect kept, never below `decode_size`);
    other large images are box-reduced by an integer factor. Anything over `max_pixels` is refused
    before a pixel is decoded; every failure becomes a HashError with the reason.
    """
    fp = io.BytesIO(data) if isinstance(data, bytes) else data
    # vigil checks the size itself right after reading the header (below), with a clearer reason than
    # Pillow's own bomb check, which is therefore switched off; everything that decodes checks first.
    Image.MAX_IMAGE_PIXELS = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(fp) as img:
                width, height = img.size
                if width * height > limits.max_pixels:
                    raise HashError(
                        f"image too large: {width}x{height} pixels exceeds the limit of {limits.max_pixels}"
                    )
                if img.format == "JPEG":
                    img.draft("RGB", (limits.decode_size, limits.decode_size))
                img.load()
                factor = min(img.size) // limits.decode_size
                frame = img.reduce(factor) if factor >= 2 and img.format != "JPEG" else img
                rgb = frame.convert("RGB")
                return np.asarray(rgb)
    except HashError:
        raise
    except UnidentifiedImageError:
        raise HashError("cannot decode image: unrecognised or corrupt image data") from None
    except Image.DecompressionBombError as exc:
        raise HashError(f"image too large: {exc}") from None
    except Exception as exc:  # Pillow raises many types for corrupt data; each becomes the item's reason
        raise HashError(f"cannot decode image: {exc}") from None
