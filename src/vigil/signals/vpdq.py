"""vPDQ: Meta's video hash — the PDQ hash of one frame per second, with each frame's quality and time.

Frames are decoded with PyAV (FFmpeg) and hashed with the same `pdqhash` binding as images, which is what
Meta's `vpdq` library does (its default: one frame per second of video time, PDQ of the full frame).
A value is the frame list: for each sampled frame 32 bytes of PDQ hash, one byte of quality and the
frame's time in milliseconds (uint32, big-endian) — 37 bytes a frame, written as hex like every signal.

Matching follows vpdq's brute-force matcher: drop frames below the quality floor (50) on both sides,
keep one frame per distinct hash, then the query video matches a known one when at least `match_percent`
of its frames are within 31 bits of some frame of the known video and at least that share of the known
video's frames are within 31 bits of some query frame — reported as the two percentages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from vigil.core.errors import HashError
from vigil.signals.base import Signal

FRAME_BYTES = 37


@dataclass(frozen=True, slots=True)
class Frames:
    hashes: np.ndarray  # uint8[k, 32]
    quality: np.ndarray  # uint8[k]
    millis: np.ndarray  # uint32[k]

    def __len__(self) -> int:
        return len(self.quality)

    def prepared(self, min_quality: int) -> np.ndarray:
        """vpdq's matching input: frames at or above the quality floor, one per distinct hash."""
        good = self.hashes[self.quality >= min_quality]
        if not len(good):
            return good
        return np.unique(good, axis=0)


class VPDQSignal(Signal):
    name = "vpdq"
    kind = "video"
    size = FRAME_BYTES  # per frame; a value is any positive number of frames
    threshold = 31
    min_quality = 50
    match_percent = 80.0
    seconds_per_hash = 1.0
    examples = (("ab" * 32 + "64" + "000003e8") * 2,)

    def parse(self, text: str) -> bytes:
        value = text.strip()
        if not value or len(value) % (FRAME_BYTES * 2):
            raise ValueError(
                f"vpdq value must be a whole number of {FRAME_BYTES * 2}-hex-digit frames, "
                f"got {len(value)} digits"
            )
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raw = b""
        if len(raw) * 2 != len(value):
            raise ValueError(f"vpdq value is not hexadecimal: {value[:80]!r}")
        quality = np.frombuffer(raw, np.uint8).reshape(-1, FRAME_BYTES)[:, 32]
        if (quality > 100).any():
            raise ValueError("vpdq frame quality must be 0..100")
        return raw

    def distance(self, a: bytes, b: bytes) -> int:
        """0 for the same frame list, else 1 (videos are compared by `compare`, not by one distance)."""
        return 0 if a == b else 1

    def index_rows(self, value: bytes, quality: int | None) -> tuple[np.ndarray, np.ndarray] | None:
        """Every frame's hash and quality, each a row of the index under the video's entry id."""
        frames = self.frames(value)
        return frames.hashes, frames.quality

    @staticmethod
    def frames(value: bytes) -> Frames:
        table = np.frombuffer(value, np.uint8).reshape(-1, FRAME_BYTES)
        millis = table[:, 33:37].copy().view(">u4").reshape(-1).astype(np.uint32)
        return Frames(np.ascontiguousarray(table[:, :32]), table[:, 32].copy(), millis)

    @staticmethod
    def encode(hashes: list[bytes], quality: list[int], millis: list[int]) -> bytes:
        rows = zip(hashes, quality, millis, strict=True)
        return b"".join(h + bytes([q]) + int(t).to_bytes(4, "big") for h, q, t in rows)

    def compare(self, query: Frames, known: Frames, min_quality: int | None = None) -> tuple[float, float]:
        """(share of the query's frames found in the known video, share of the known video's frames found
        in the query), in percent, after vpdq's quality filter and de-duplication."""
        floor = self.min_quality if min_quality is None else min_quality
        q, k = query.prepared(floor), known.prepared(floor)
        if not len(q) or not len(k):
            return 0.0, 0.0
        dist = np.bitwise_count(q.view(np.uint64)[:, None, :] ^ k.view(np.uint64)[None, :, :]).sum(axis=2)
        close = dist <= self.threshold
        return 100.0 * close.any(axis=1).mean(), 100.0 * close.any(axis=0).mean()

    def hash_video(
        self, source: str | BinaryIO, *, max_side: int = 512, max_seconds: float = 6 * 3600
    ) -> bytes:
        """The vPDQ value of a video file or stream; HashError when it cannot be decoded at all."""
        import av

        from vigil.signals import pdq

        hasher = pdq.PDQSignal()
        hashes: list[bytes] = []
        quality: list[int] = []
        millis: list[int] = []
        try:
            with av.open(source, mode="r") as container:
                if not container.streams.video:
                    raise HashError("no video stream")
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                rate = float(stream.average_rate or stream.guessed_rate or 25)
                next_t = 0.0
                for index, frame in enumerate(container.decode(stream)):
                    t = float(frame.time) if frame.time is not None else index / rate
                    if t > max_seconds:
                        break
                    if t + 1e-6 < next_t:
                        continue
                    while next_t <= t + 1e-6:
                        next_t += self.seconds_per_hash
                    w, h = frame.width, frame.height
                    scale = min(1.0, max_side / max(w, h))
                    if scale < 1.0:
                        width, height = max(1, round(w * scale)), max(1, round(h * scale))
                        frame = frame.reformat(width=width, height=height)
                    result = hasher.compute_image(frame.to_ndarray(format="rgb24"))
                    hashes.append(result.value)
                    quality.append(int(result.quality or 0))
                    millis.append(round(t * 1000))
        except HashError:
            raise
        except Exception as exc:  # FFmpeg's errors (av.error.*) and damaged containers
            if not hashes:
                raise HashError(f"cannot decode video: {exc}") from exc
            value = self.encode(hashes, quality, millis)
            raise PartialVideo(value, f"video damaged after {millis[-1] / 1000:.0f} s: {exc}") from exc
        if not hashes:
            raise HashError("video has no decodable frames")
        return self.encode(hashes, quality, millis)


class PartialVideo(HashError):
    """Frames up to a point of damage were hashed; `value` holds them."""

    def __init__(self, value: bytes, message: str) -> None:
        super().__init__(message)
        self.value = value
