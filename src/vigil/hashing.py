"""Hash one file: a single read feeds every stream signal, then images are decoded once for image signals."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from vigil import signals
from vigil.core.errors import HashError
from vigil.core.fsio import open_readonly
from vigil.media import SNIFF_BYTES, DecodeLimits, decode_rgb, is_decodable_image, is_video, sniff
from vigil.signals import HashResult
from vigil.signals.vpdq import PartialVideo

CHUNK = 1 << 20
# Images up to this size are kept in memory from the hashing read, so they are read only once.
MAX_BUFFERED_IMAGE = 256 << 20


@dataclass(slots=True)
class FileHashes:
    """What vigil computed for one file; `error` says why something could not be computed."""

    size: int
    media_type: str
    digests: dict[str, bytes] = field(default_factory=dict)
    image: dict[str, HashResult] = field(default_factory=dict)
    variants: dict[str, list[bytes]] = field(default_factory=dict)
    video: dict[str, bytes] = field(default_factory=dict)
    error: str | None = None
    head: bytes = b""  # the first bytes read (what the file is: image, video, container)
    decoded: bool = False

    def as_fields(self) -> dict[str, Any]:
        """size, every signal's hex value (None where not computed), image qualities, media_type."""
        fields: dict[str, Any] = {"size": self.size}
        for signal in signals.all_signals():
            if signal.kind == "stream":
                digest = self.digests.get(signal.name)
                fields[signal.name] = digest.hex() if digest is not None else None
            elif signal.kind == "video":
                value = self.video.get(signal.name)
                fields[signal.name] = value.hex() if value is not None else None
            else:
                result = self.image.get(signal.name)
                fields[signal.name] = result.hex if result else None
                fields[f"{signal.name}_quality"] = result.quality if result else None
        fields["media_type"] = self.media_type
        return fields


def hash_file(
    path: str,
    limits: DecodeLimits,
    *,
    perceptual: bool = True,
    skip_decode: Callable[[dict[str, bytes]], bool] | None = None,
) -> FileHashes:
    """Hash the file at `path`. OSError propagates (the caller makes it an error item)."""
    with os.fdopen(open_readonly(path), "rb", buffering=0) as fh:
        return hash_stream(
            fh,
            path,
            limits,
            perceptual=perceptual,
            skip_decode=skip_decode,
            reopen=lambda: os.fdopen(open_readonly(path), "rb"),
        )


def hash_stream(
    fh: BinaryIO,
    name: str,
    limits: DecodeLimits,
    *,
    perceptual: bool = True,
    skip_decode: Callable[[dict[str, bytes]], bool] | None = None,
    reopen: Callable[[], BinaryIO] | None = None,
    tee: Callable[[bytes], object] | None = None,
) -> FileHashes:
    """Hash a stream read once from the start: every stream signal from the same buffer, then the image
    signals from the bytes kept in memory (or, for a large image, read again through `reopen`).
    `tee` sees every chunk (the scanner spills a member it will look into). OSError propagates."""
    hashers = {s.name: s.new_hasher() for s in signals.stream_signals()}
    head = fh.read(SNIFF_BYTES)
    media_type = sniff(head, name)
    keep = perceptual and is_decodable_image(media_type)
    kept: list[bytes] = [head] if keep else []
    size = len(head)
    for h in hashers.values():
        h.update(head)
    if tee is not None:
        tee(head)
    while chunk := fh.read(CHUNK):
        size += len(chunk)
        for h in hashers.values():
            h.update(chunk)
        if tee is not None:
            tee(chunk)
        if keep:
            kept.append(chunk)
            if size > MAX_BUFFERED_IMAGE:
                keep = False
                kept = []
    digests = {n: h.digest() for n, h in hashers.items()}
    result = FileHashes(size=size, media_type=media_type, digests=digests, head=head)
    if perceptual and is_video(media_type):
        if skip_decode is None or not skip_decode(result.digests):
            _hash_video(result, reopen)
        return result
    if not perceptual or not is_decodable_image(media_type):
        return result
    if skip_decode is not None and skip_decode(result.digests):
        return result
    try:
        if kept:
            rgb = decode_rgb(b"".join(kept), limits)
        else:
            if reopen is None:
                raise HashError(f"image over {MAX_BUFFERED_IMAGE >> 20} MB inside a container (not decoded)")
            with reopen() as fh2:
                rgb = decode_rgb(fh2, limits)
        result.decoded = True
        for signal in signals.image_signals():
            values, quality = signal.variants(rgb)
            result.image[signal.name] = HashResult(signal.name, values[0], quality)
            result.variants[signal.name] = values
    except HashError as exc:
        result.error = str(exc)
    return result


def _hash_video(result: FileHashes, reopen: Callable[[], BinaryIO] | None) -> None:
    """Frame hashes of a video, read again from the start (FFmpeg needs to seek)."""
    for signal in signals.video_signals():
        try:
            if reopen is None:
                raise HashError("video inside a container could not be read again (not decoded)")
            with reopen() as fh:
                result.video[signal.name] = signal.hash_video(fh)
            result.decoded = True
        except PartialVideo as exc:
            result.video[signal.name] = exc.value
            result.error = str(exc)
        except HashError as exc:
            result.error = str(exc)
