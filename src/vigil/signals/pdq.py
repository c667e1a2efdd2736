"""PDQ: Meta's 256-bit perceptual image hash, computed by the `pdqhash` reference binding.

The hash's bit i (as pdqhash returns it) is bit 7 - i % 8 of byte i // 8, which is the hex order
of the reference implementation and python-threatexchange.
"""

from __future__ import annotations

import numpy as np
import pdqhash

from vigil.signals.base import HashResult, ImageSignal


def bits_to_bytes(bits: np.ndarray) -> bytes:
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes()


class PDQSignal(ImageSignal):
    name = "pdq"
    size = 32
    threshold = 31
    min_quality = 50
    examples = (
        "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
        "0000000000000000000000000000000000000000000000000000000000000000",
    )

    def distance(self, a: bytes, b: bytes) -> int:
        return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()

    def compute_image(self, rgb: np.ndarray) -> HashResult:
        bits, quality = pdqhash.compute(_contiguous(rgb))
        return HashResult(self.name, bits_to_bytes(bits), int(quality))

    def variants(self, rgb: np.ndarray) -> tuple[list[bytes], int]:
        """The hash and its 7 rotations/flips, from one DCT (pdqhash.compute_dihedral)."""
        hashes, quality = pdqhash.compute_dihedral(_contiguous(rgb))
        return [bits_to_bytes(h) for h in hashes], int(quality)


def _contiguous(rgb: np.ndarray) -> np.ndarray:
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an H×W×3 uint8 array, got {rgb.shape} {rgb.dtype}")
    return np.ascontiguousarray(rgb)
