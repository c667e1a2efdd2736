"""Thumbnails for the grading page: bounded, upright, no metadata, private cache; video frame strips; and
the evidence-root checks they rely on (in-process: no server needed)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from PIL import Image

from tests.imagegen import make_image, render_image
from tests.videogen import make_video
from vigil.server.web.evidence import evidence_file, inside, parse_roots
from vigil.server.web.thumbs import FRAMES, SIZE, ThumbCache, thumbnail, video_frames


def jpeg(path: Path, img: Image.Image, **save: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "JPEG", quality=90, **save)  # type: ignore[arg-type]
    return path


def test_thumbnails_are_bounded_upright_and_stripped(tmp_path: Path) -> None:
    wide = render_image("shapes", 1, (1200, 600))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: shown turned 90° clockwise
    exif[0x010F] = "SyntheticCam"  # a make tag, which must not reach the browser
    data = jpeg(tmp_path / "a.jpg", wide, exif=exif.tobytes()).read_bytes()
    out = thumbnail(data, 10**9)
    assert out is not None
    with Image.open(io.BytesIO(out)) as img:
        assert img.format == "JPEG" and img.mode == "RGB"
        assert max(img.size) == SIZE and img.size[1] > img.size[0]  # portrait after the EXIF turn
        assert not img.getexif()
    assert thumbnail(data, 1200 * 600 - 1) is None  # over the pixel limit: not decoded
    assert thumbnail(b"not an image", 10**9) is None
    thumbnail(data[: len(data) // 3], 10**9)  # truncated: None or a partial picture, never an exception


def test_cache_is_private_and_reused(tmp_path: Path) -> None:
    picture = make_image(tmp_path / "ev" / "p.png", "noise", 3, (400, 300))
    cache = ThumbCache(tmp_path / "data" / "thumbs", 10**9)
    first = cache.image(str(picture), "d" * 64)
    assert first is not None
    files = [p for p in cache.root.rglob("*") if p.is_file()]
    assert len(files) == 1 and files[0].stat().st_mode & 0o777 == 0o600
    assert cache.root.stat().st_mode & 0o777 == 0o700
    picture.unlink()
    assert cache.image(str(picture), "d" * 64) == first  # served from the cache
    assert cache.image(str(picture), "e" * 64) is None  # another content: not in the cache, file gone


def test_cache_keeps_to_its_size_dropping_the_least_recently_used(tmp_path: Path) -> None:
    pictures = [make_image(tmp_path / "ev" / f"p{i}.png", "noise", 10 + i, (400, 300)) for i in range(5)]
    sizes = [len(thumbnail(p.read_bytes(), 10**9) or b"") for p in pictures]
    assert min(sizes) > 1000
    cache = ThumbCache(tmp_path / "thumbs", 10**9, max_bytes=sum(sizes[:4]) + min(sizes) // 2)

    def file_of(i: int) -> Path:
        return cache._file(f"img:{pictures[i]}:{i:064d}")

    for i in range(4):
        assert cache.image(str(pictures[i]), f"{i:064d}") is not None
    for i in range(4):  # distinct ages, picture 0 the oldest ...
        os.utime(file_of(i), (1000 + i, 1000 + i))
    assert cache.image(str(pictures[0]), f"{0:064d}") is not None  # ... until it is shown again
    assert cache.image(str(pictures[4]), f"{4:064d}") is not None  # past the limit: trimmed to 80 %
    kept = [i for i in range(5) if file_of(i).exists()]
    assert kept == [0, 3, 4], kept  # 1 and 2 were the least recently used
    assert sum(file_of(i).stat().st_size for i in kept) <= 0.8 * cache.max_bytes


def test_members_of_containers_get_thumbnails(tmp_path: Path) -> None:
    buf = io.BytesIO()
    render_image("gradient", 4, (300, 200)).save(buf, "PNG")
    archive = tmp_path / "ev" / "a.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("dir/b.png", buf.getvalue())
    cache = ThumbCache(tmp_path / "thumbs", 10**9)
    assert cache.image(f"{archive}!/dir/b.png", "f" * 64) is not None
    assert cache.image(f"{archive}!/dir/missing.png", "0" * 64) is None


def test_video_frame_strip(tmp_path: Path) -> None:
    clip = make_video(tmp_path / "c.mp4", seed=3, seconds=4)
    frames = video_frames(str(clip), 10**9)
    assert len(frames) == FRAMES and len(set(frames)) == FRAMES
    for data in frames:
        with Image.open(io.BytesIO(data)) as img:
            assert img.format == "JPEG" and max(img.size) <= SIZE
    assert video_frames(str(clip), 100) == []  # frames over the pixel limit are not decoded
    assert video_frames(io.BytesIO(b"\x00" * 1000), 10**9) == []
    cache = ThumbCache(tmp_path / "thumbs", 10**9)
    assert [cache.frame(str(clip), "a" * 64, k) for k in range(FRAMES)] == frames
    assert cache.frame(str(clip), "a" * 64, FRAMES) is None


def test_evidence_roots(tmp_path: Path) -> None:
    root = tmp_path / "evidence"
    (root / "case").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    secret = make_image(tmp_path / "outside" / "s.png", "text", 1)
    inner = make_image(root / "case" / "a.png", "text", 2)
    os.symlink(secret, root / "case" / "link.png")
    roots = parse_roots(f"{root}::{tmp_path / 'missing'}: ")
    assert roots == [root.resolve()]
    assert inside(str(inner), roots) == inner.resolve()
    assert inside(f"{root}/case/../../outside/s.png", roots) is None
    assert inside(str(root / "case" / "link.png"), roots) is None
    assert inside("case/a.png", roots) is None and inside("", roots) is None
    assert inside(f"{root}/\x00", roots) is None
    scan_roots = [str(root / "case")]
    assert evidence_file(str(inner), scan_roots, roots) == str(inner.resolve())
    assert evidence_file(f"{inner}!/x/y.png", scan_roots, roots) == f"{inner.resolve()}!/x/y.png"
    assert evidence_file(str(secret), ["/"], roots) is None  # the scan's own roots are bounded too
    assert evidence_file(str(inner), [str(tmp_path / "outside")], roots) is None
    assert evidence_file(str(root / "case"), scan_roots, roots) is None  # a folder is no file
