"""Videos: vPDQ values, vpdq's two-way matching rule, import of known videos, scans (also inside a zip)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tests.videogen import make_video
from vigil.cli import main
from vigil.index import PDQIndex
from vigil.signals import get
from vigil.signals.vpdq import FRAME_BYTES, VPDQSignal
from vigil.store import Store

VPDQ: VPDQSignal = get("vpdq")  # type: ignore[assignment]


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("videos")
    return {
        "known": make_video(root / "known.mp4", 1),
        "smaller": make_video(root / "smaller.mkv", 1, scale=0.5, codec="libx264", bitrate=150_000),
        "mjpeg": make_video(root / "copy.avi", 1, codec="mjpeg", bitrate=0),
        "mov": make_video(root / "copy.mov", 1, scale=0.75, codec="h264", bitrate=300_000),
        "other": make_video(root / "other.webm", 2, codec="libvpx"),
        "first_half": make_video(root / "half.mp4", 1, seconds=3),
    }


def test_one_frame_per_second_with_quality_and_time(videos: dict[str, Path]) -> None:
    value = VPDQ.hash_video(str(videos["known"]))
    frames = VPDQ.frames(value)
    assert len(value) == 6 * FRAME_BYTES and len(frames) == 6
    assert frames.millis.tolist() == [0, 1000, 2000, 3000, 4000, 5000]
    assert ((frames.quality >= 50) & (frames.quality <= 100)).all()
    assert VPDQ.parse(value.hex()) == value
    with pytest.raises(ValueError, match="whole number"):
        VPDQ.parse(value.hex()[:-2])
    with pytest.raises(ValueError, match="quality"):
        VPDQ.parse("00" * 32 + "ff" + "00000000")


def test_matching_rule_is_two_way(videos: dict[str, Path]) -> None:
    known = VPDQ.frames(VPDQ.hash_video(str(videos["known"])))
    for name in ("smaller", "mjpeg", "mov"):  # the same video re-encoded: every frame found both ways
        assert VPDQ.compare(VPDQ.frames(VPDQ.hash_video(str(videos[name]))), known) == (100.0, 100.0)
    assert VPDQ.compare(VPDQ.frames(VPDQ.hash_video(str(videos["other"]))), known) == (0.0, 0.0)
    # The first half: all its frames are in the known video, but only half of the known video is in it.
    q, c = VPDQ.compare(VPDQ.frames(VPDQ.hash_video(str(videos["first_half"]))), known)
    assert q == 100.0 and c == 50.0


def run(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", str(db), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_known_video_is_found_re_encoded_and_inside_a_zip(videos: dict[str, Path], tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    code, out, _ = run(db, "hash", str(videos["known"]))
    known = json.loads(out)
    assert code == 0 and len(known["vpdq"]) == 6 * FRAME_BYTES * 2 and known["media_type"] == "video/mp4"
    (tmp_path / "videos.csv").write_text(f"vpdq,category,series\n{known['vpdq']},A,film-1\n")
    assert run(db, "import", str(tmp_path / "videos.csv"), "--format", "csv")[0] == 0
    with Store(str(db)) as store, PDQIndex.open(store.index_root / "vpdq", create=False) as index:
        assert len(index) == 6  # one index row per frame, all under the video's entry

    ev = tmp_path / "ev"
    ev.mkdir()
    for name in ("smaller", "other", "first_half"):
        (ev / videos[name].name).write_bytes(videos[name].read_bytes())
    pack = io.BytesIO()
    with zipfile.ZipFile(pack, "w") as zf:
        zf.writestr("clips/copy.avi", videos["mjpeg"].read_bytes())
    (ev / "clips.zip").write_bytes(pack.getvalue())
    (ev / "broken.mp4").write_bytes(videos["known"].read_bytes()[:2000])
    code, _, err = run(db, "scan", str(ev), "--out", str(tmp_path / "out"), "--workers", "2")
    assert code == 0, err
    records = [json.loads(x) for x in (tmp_path / "out" / "items.jsonl").read_text().splitlines()]
    items = {r["path"].removeprefix(f"{ev}/"): r for r in records}

    for path in ("smaller.mkv", "clips.zip!/clips/copy.avi"):
        item = items[path]
        assert item["verdict"] == "similar", item
        [match] = item["matches"]
        assert match["signal"] == "vpdq" and match["category"] == "A" and match["series"] == "film-1"
        assert match["query_match_percent"] == 100.0 and match["compared_match_percent"] == 100.0
    assert items["other.webm"]["verdict"] == "unknown" and items["other.webm"]["vpdq"]
    assert items["half.mp4"]["verdict"] == "unknown"  # 100 % one way, 50 % the other: not a match
    assert items["broken.mp4"]["status"] == "error" and "video" in items["broken.mp4"]["error"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["verdicts"]["similar"] == 2


def test_frames_quality_floor_and_duplicates() -> None:
    rng = np.random.default_rng(0)
    a, b = (rng.integers(0, 256, 32, dtype=np.uint8).tobytes() for _ in range(2))
    value = VPDQ.encode([a, a, b], [90, 90, 10], [0, 1000, 2000])
    prepared = VPDQ.frames(value).prepared(50)
    assert prepared.shape == (1, 32) and prepared[0].tobytes() == a  # duplicate kept once, weak frame dropped


def test_vpdq_feature_files_import_as_one_video(videos: dict[str, Path], tmp_path: Path) -> None:
    """Meta's vpdq tools write frame,hash,quality,seconds lines; such a file imports as one known video."""
    db = tmp_path / "s.db"
    frames = VPDQ.frames(VPDQ.hash_video(str(videos["known"])))
    lines = ["# from vpdq"] + [
        f"{i},{h.tobytes().hex()},{q},{t / 1000:.3f}"
        for i, (h, q, t) in enumerate(zip(frames.hashes, frames.quality, frames.millis, strict=True))
    ]
    bad = tmp_path / "bad.txt"
    bad.write_text("\n".join([*lines[:3], "3,zz,100,3.000", *lines[3:]]) + "\n")
    code, _, err = run(db, "import", str(bad), "--format", "vpdq", "--category", "B")
    assert code == 1 and f"{bad}:4:" in err and "64 hex digits" in err
    good = tmp_path / "known.vpdq.txt"
    good.write_text("\n".join(lines) + "\n")
    code, out, err = run(db, "--json", "import", str(good), "--format", "vpdq", "--category", "B")
    assert code == 0, err
    assert json.loads(out)[str(good)]["entries_created"] == 1
    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "clip.mkv").write_bytes(videos["smaller"].read_bytes())
    assert run(db, "scan", str(ev), "--out", str(tmp_path / "out"), "--workers", "1")[0] == 0
    [item] = [json.loads(x) for x in (tmp_path / "out" / "items.jsonl").read_text().splitlines()]
    assert item["verdict"] == "similar" and item["matches"][0]["category"] == "B"
