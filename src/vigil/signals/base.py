"""The one interface every hash type implements.

A signal has a stable `name` (the key in the store, the CLI and the API), a fixed value length, a match
threshold (0 for exact signals) and knows how to parse, format and compare its values. How a value is
computed depends on the signal's `kind`:

- ``stream`` signals hash the file's bytes (md5, sha1, sha256): `new_hasher()` returns an object with
  ``update(bytes)`` and ``digest()``, so one read of a file feeds all of them;
- ``image`` signals hash decoded pixels (pdq; a licensed PhotoDNA plug-in would be one too):
  `compute_image(rgb)` returns the value and quality, `variants(rgb)` the values to query with;
- ``video`` signals hash decoded frames (vpdq): `hash_video(file)` returns the value.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

import numpy as np


class Hasher(Protocol):
    def update(self, data: bytes | memoryview, /) -> None: ...

    def digest(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class HashResult:
    """One computed value of one signal; `quality` is None for signals without one."""

    signal: str
    value: bytes
    quality: int | None = None

    @property
    def hex(self) -> str:
        return self.value.hex()


class Signal(ABC):
    name: ClassVar[str]
    kind: ClassVar[Literal["stream", "image", "video"]]
    size: ClassVar[int]
    threshold: ClassVar[int] = 0
    min_quality: ClassVar[int] = 0
    # Example values the signal tests reuse.
    examples: ClassVar[tuple[str, ...]] = ()

    def parse(self, text: str) -> bytes:
        """Validate a hex value and return its bytes; ValueError says what is wrong."""
        value = text.strip()
        if len(value) != self.size * 2:
            raise ValueError(f"{self.name} value must be {self.size * 2} hex digits, got {len(value)}")
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raw = b""
        if len(raw) != self.size:  # fromhex skips inner spaces, so a short result means bad characters
            raise ValueError(f"{self.name} value is not hexadecimal: {value!r}")
        return raw

    def format(self, value: bytes) -> str:
        return value.hex()

    def distance(self, a: bytes, b: bytes) -> int:
        """0 when equal; exact signals return 1 for any difference, perceptual ones a real distance."""
        return 0 if a == b else 1

    @property
    def exact(self) -> bool:
        return self.threshold == 0

    def index_rows(self, value: bytes, quality: int | None) -> tuple[np.ndarray, np.ndarray] | None:
        """What the perceptual index holds for one stored value: 256-bit hashes and their qualities
        (255 = unknown); None for signals the index does not hold (exact ones, other sizes)."""
        if self.exact or len(value) != 32:
            return None
        q = 255 if quality is None else max(0, min(100, int(quality)))
        return np.frombuffer(value, np.uint8).reshape(1, 32), np.array([q], np.uint8)


class StreamSignal(Signal):
    kind = "stream"

    @abstractmethod
    def new_hasher(self) -> Hasher: ...


class ImageSignal(Signal):
    kind = "image"

    @abstractmethod
    def compute_image(self, rgb: np.ndarray) -> HashResult:
        """Hash an H×W×3 uint8 RGB array."""

    @abstractmethod
    def variants(self, rgb: np.ndarray) -> tuple[list[bytes], int]:
        """All values to query with (the hash first, then e.g. rotations/flips) and the quality."""
