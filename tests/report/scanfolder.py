"""Hand-written scan folders (items.jsonl + summary.json) and benign generated images for report tests."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw


def item(path: str, verdict: str = "unknown", matches: list[dict[str, Any]] | None = None, **extra: Any):
    record: dict[str, Any] = {
        "path": path,
        "size": 1000,
        "md5": "a" * 32,
        "sha1": "b" * 40,
        "sha256": "c" * 64,
        "pdq": "d" * 64,
        "pdq_quality": 90,
        "media_type": "image/jpeg",
        "deleted": False,
        "status": "ok",
        "error": None,
        "verdict": verdict,
        "matches": matches or [],
    }
    record.update(extra)
    return record


def match(
    signal: str = "sha256", distance: int = 0, entry_id: int = 1, category: str | None = "A", **extra: Any
):
    return {
        "signal": signal,
        "distance": distance,
        "entry_id": entry_id,
        "category": category,
        "series": None,
        "source": "hotline-test",
    } | extra


def summary(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "vigil_version": "0.1.0",
        "scan_id": 7,
        "case": "CASE-2024-0042",
        "evidence": [
            {
                "path": "/evidence/usb1",
                "type": "folder",
                "files": 4321,
                "bytes": 987654321,
                "sha256": "e" * 64,
            }
        ],
        "store": {
            "url": "sqlite:////tmp/vigil.db",
            "fingerprint": "f00dfeed" * 8,
            "entries": 555,
            "signals": 1110,
        },
        "started_at": "2024-05-01T10:00:00+00:00",
        "finished_at": "2024-05-01T10:05:00+00:00",
        "duration_s": 300.0,
        "counts": {"items": 8, "files_read": 7, "bytes_read": 987654321, "errors": 1, "skipped": 2},
        "verdicts": {"known": 4, "similar": 1, "known_good": 1, "unknown": 1, "error": 1},
        "categories": {"A": 2, "B": 1, "X": 1, "ungraded": 1},
        "series": {"harbour": 1, "meadow": 1, "orchard": 1},
        "skipped": [
            {"path": "/evidence/usb1/fifo", "reason": "not a regular file"},
            {"path": "/evidence/usb1/link", "reason": "symbolic link"},
        ],
        "settings": {"pdq_threshold": 31, "workers": 4},
        "throughput": {"files_per_s": 14.3, "mb_per_s": 3.29},
    }
    data.update(extra)
    return data


def write_scan(out: Path, items: list[dict[str, Any]], summary_data: dict[str, Any] | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "items.jsonl", "w", encoding="utf-8") as fh:
        for record in items:
            fh.write(json.dumps(record) + "\n")
    if summary_data is not None:
        (out / "summary.json").write_text(json.dumps(summary_data), encoding="utf-8")
    return out


def colour_image(size: tuple[int, int] = (320, 240), fmt: str = "JPEG", seed: int = 0) -> bytes:
    """A benign, strongly coloured picture: a red-green-blue gradient with a few shapes."""
    w, h = size
    x = np.linspace(0, 255, w, dtype=np.float32)[None, :].repeat(h, 0)
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None].repeat(w, 1)
    rgb = np.stack([x, y, 255 - (x + y) / 2], axis=-1).astype(np.uint8)
    img = Image.fromarray(rgb, "RGB")
    draw = ImageDraw.Draw(img)
    rng = np.random.default_rng(seed)
    for _ in range(4):
        x0, y0 = int(rng.integers(0, w // 2)), int(rng.integers(0, h // 2))
        draw.ellipse((x0, y0, x0 + w // 4, y0 + h // 4), fill=(255, 200, 0))
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()
