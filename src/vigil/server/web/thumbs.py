"""Thumbnails for the grading page, made on demand and cached in the deployment's private data folder.

Images: Pillow, only the common raster formats (as report.thumbs), bounded pixel count, decoded at reduced
size where JPEG allows, turned upright by EXIF, at most `SIZE` pixels a side, re-encoded as JPEG (so no
metadata of the evidence reaches the browser). Colour is kept: blur and greyscale are the browser's job,
per user (wellness settings). Videos: `FRAMES` frames spread over the video, extracted with PyAV.

The cache (``<data>/thumbs``) is created private (0700 folders, 0600 files) and is never served as a
folder: a thumbnail is only ever sent by the route that checked the item it belongs to. It holds at most
`max_bytes` (VIGIL_THUMB_CACHE_MB): a hit marks a file as just used (its mtime), and when a write takes
the cache past the limit the least recently used files go until it is at 80 %.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageOps

from vigil.core.fsio import atomic_write
from vigil.report.thumbs import FORMATS
from vigil.sources.locator import read_evidence

SIZE = 320
FRAMES = 4
QUALITY = 75
MAX_READ = 256 << 20  # a member read out of a container for its thumbnail
MAX_DECODE_FRAMES = 2000  # frames decoded looking for one frame strip (a bad seek cannot spin forever)


class ThumbCache:
    def __init__(self, root: Path, max_pixels: int, max_bytes: int = 1 << 30) -> None:
        self.root = root
        self.max_pixels = max_pixels
        self.max_bytes = max_bytes
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._size: int | None = None  # bytes in the cache, counted on the first write
        self._size_lock = threading.Lock()

    def _lock(self, key: str) -> threading.Lock:
        """One lock per thumbnail being made: the page asks for a video's frames at once, and one
        decode should make them all (the others wait, then find them in the cache)."""
        with self._guard:
            if len(self._locks) > 1000:
                self._locks = {k: v for k, v in self._locks.items() if v.locked()}
            return self._locks.setdefault(key, threading.Lock())

    def image(self, path: str, digest: str) -> bytes | None:
        """The JPEG thumbnail of the image at vigil path `path` (already checked), or None."""
        return self._cached(f"img:{path}:{digest}", lambda: self._image(path))

    def frame(self, path: str, digest: str, k: int) -> bytes | None:
        """Frame `k` of the strip of the video at `path`, or None."""
        if not 0 <= k < FRAMES:
            return None
        key = f"vid:{path}:{digest}"
        found = self._read(self._file(f"{key}:{k}"))
        if found is not None:
            return found
        with self._lock(key):
            found = self._read(self._file(f"{key}:{k}"))
            if found is not None:
                return found
            frames = self._frames(path)
            for i, data in enumerate(frames):
                self._write(self._file(f"{key}:{i}"), data)
        return frames[k] if k < len(frames) else None

    def _file(self, key: str) -> Path:
        name = hashlib.sha256(key.encode()).hexdigest()
        return self.root / name[:2] / f"{name}.jpg"

    def _cached(self, key: str, make: Callable[[], bytes | None]) -> bytes | None:
        file = self._file(key)
        found = self._read(file)
        if found is not None:
            return found
        with self._lock(key):
            found = self._read(file)
            if found is not None:
                return found
            data = make()
            if data is not None:
                self._write(file, data)
        return data

    @staticmethod
    def _read(file: Path) -> bytes | None:
        try:
            data = file.read_bytes()
            os.utime(file)  # just used: the last to go when the cache is trimmed
            return data
        except OSError:
            return None

    def _files(self) -> list[os.DirEntry[str]]:
        found = []
        for sub in os.scandir(self.root):
            if sub.is_dir(follow_symlinks=False):
                found += [f for f in os.scandir(sub.path) if f.name.endswith(".jpg")]
        return found

    def _account(self, added: int) -> None:
        """Count `added` bytes; past `max_bytes`, remove the least recently used files down to 80 %."""
        with self._size_lock:
            if self._size is None:
                self._size = sum(f.stat().st_size for f in self._files())
            else:
                self._size += added
            if self._size <= self.max_bytes:
                return
            entries = sorted(self._files(), key=lambda f: f.stat().st_mtime)
            size = sum(f.stat().st_size for f in entries)
            for entry in entries:
                if size <= self.max_bytes * 0.8:
                    break
                try:
                    length = entry.stat().st_size
                    os.unlink(entry.path)
                    size -= length
                except OSError:  # gone already (another worker trimmed too)
                    continue
            self._size = size

    def _write(self, file: Path, data: bytes) -> None:
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            file.parent.mkdir(mode=0o700, exist_ok=True)
            with atomic_write(file, "wb", suffix=".part") as fh:  # mkstemp: 0600 like the folders' 0700
                fh.write(data)
            self._account(len(data))
        except OSError:  # a full or read-only disk costs the cache, not the page
            return

    def _image(self, path: str) -> bytes | None:
        data = read_evidence(path, MAX_READ)
        return None if data is None else thumbnail(data, self.max_pixels)

    def _frames(self, path: str) -> list[bytes]:
        outer, _, inner = path.partition("!/")
        source: str | io.BytesIO
        if inner:
            data = read_evidence(path, MAX_READ)
            if data is None:
                return []
            source = io.BytesIO(data)
        else:
            source = outer
        return video_frames(source, self.max_pixels)


def thumbnail(data: bytes, max_pixels: int, size: int = SIZE) -> bytes | None:
    """JPEG bytes of `data` (an image) fitting size×size, upright; None when it is not a decodable image of
    at most `max_pixels` pixels. Never raises."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as img:
                width, height = img.size
                if width * height > max_pixels:
                    return None
                if img.format in ("JPEG", "MPO"):
                    img.draft("RGB", (size, size))
                img.load()
                return _encode(_upright(img), size)
    except Exception:  # undecodable, truncated, hostile: no thumbnail, never an error
        return None


def video_frames(source: str | io.BytesIO, max_pixels: int, count: int = FRAMES) -> list[bytes]:
    """Up to `count` thumbnails of frames spread evenly over a video; [] when it cannot be decoded."""
    import av

    out: list[bytes] = []
    try:
        with av.open(source, mode="r") as container:
            if not container.streams.video:
                return []
            stream = container.streams.video[0]
            if (stream.width or 0) * (stream.height or 0) > max_pixels:
                return []
            base = stream.time_base
            if stream.duration and base:
                length = float(stream.duration * base)
            elif container.duration:
                length = container.duration / 1_000_000
            else:
                length = 0.0
            decoded = 0
            for k in range(count):
                at = length * (k + 0.5) / count
                if base and at > 0:
                    container.seek(int(at / base), stream=stream, backward=True, any_frame=False)
                for frame in container.decode(stream):
                    decoded += 1
                    if decoded > MAX_DECODE_FRAMES:
                        return out
                    if frame.time is not None and frame.time + 1e-3 < at:
                        continue
                    jpeg = _encode(frame.to_image(), SIZE)
                    if jpeg is not None:
                        out.append(jpeg)
                    break
                if length <= 0:
                    break  # no duration: the first frame is all we can place
    except Exception:  # damaged or hostile video: what was extracted so far
        return out
    return out


def _upright(img: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block costs the orientation, not the thumbnail
        return img


def _encode(img: Image.Image, size: int) -> bytes | None:
    img = img.convert("RGB")
    img.thumbnail((size, size))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=QUALITY)
    return buf.getvalue()
