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
    """`max_pixels`: larger images are refused. `max_full_pixels`: images Pillow cannot decode reduced
    (every format but JPEG, whose DCT scaling decodes at 1/2 to 1/8 size) are refused above this many
    pixels, since decoding them holds every pixel at once (None: only `max_pixels` applies)."""

    max_pixels: int = 178_956_970
    decode_size: int = 512
    max_full_pixels: int | None = None


def refusal(img: Image.Image, limits: DecodeLimits) -> str | None:
    """Why an opened (not yet decoded) image is too large to decode under `limits`, or None."""
    width, height = img.size
    if width * height > limits.max_pixels:
        return f"image too large: {width}x{height} pixels exceeds the limit of {limits.max_pixels}"
    full = limits.max_full_pixels
    if full is not None and img.format != "JPEG" and width * height > full:
        return (
            f"image too large: {width}x{height} pixels exceeds the limit of {full} for {img.format or 'this'}"
            " images, which cannot be decoded at reduced size"
        )
    return None


def check_size(data: bytes, limits: DecodeLimits) -> None:
    """Raise HashError with the reason if `data` is an image too large to decode under `limits`.

    Only the header is read (Pillow reads the size from it); data Pillow cannot open passes, and gets its
    own reason when it is decoded.
    """
    Image.MAX_IMAGE_PIXELS = None  # as in decode_rgb: vigil checks the size itself
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                reason = refusal(img, limits)
    except Exception:  # not an image Pillow knows, or a damaged header: decoding reports it
        return
    if reason is not None:
        raise HashError(reason)


def decode_rgb(data: bytes | BinaryIO, limits: DecodeLimits) -> np.ndarray:
    """Decode an image to an H×W×3 uint8 array, at reduced size where that keeps PDQ conformance.

    JPEGs use libjpeg's DCT scaling (Pillow draft mode, aspect kept, never below `decode_size`);
    other large images are box-reduced by an integer factor. Anything over `max_pixels` (and anything
    but a JPEG over `max_full_pixels`) is refused before a pixel is decoded; every failure becomes a
    HashError with the reason.
    """
    fp = io.BytesIO(data) if isinstance(data, bytes) else data
    # vigil checks the size itself right after reading the header (below), with a clearer reason than
    # Pillow's own bomb check, which is therefore switched off; everything that decodes checks first.
    Image.MAX_IMAGE_PIXELS = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(fp) as img:
                reason = refusal(img, limits)
                if reason is not None:
                    raise HashError(reason)
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
