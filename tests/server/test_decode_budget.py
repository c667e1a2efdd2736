"""lookup/file and decompression bombs: a small PNG of 12000×12000 pixels is refused from its header
(413, with the reason), not decoded, so the server's memory does not grow by half a gigabyte; normal
images still get their PDQ. Against a real `vigil serve` on SQLite."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.imagegen import render_image
from tests.server.serving import auth, create_key, serving
from vigil.core.errors import HashError
from vigil.media import DecodeLimits, check_size, decode_rgb


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


def png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def test_huge_png_is_refused_before_decoding(sqlite_url: str) -> None:
    key = create_key(sqlite_url, "platform", "lookup")
    bomb = png(Image.new("L", (12000, 12000), 200))  # a few hundred KB; 144 M pixels once decoded
    assert len(bomb) < 1 << 20
    normal = png(render_image("shapes", 3, (800, 600)))
    with serving(sqlite_url, env={"VIGIL_API_MAX_DECODES": "1"}) as served:
        url = f"{served.base}/api/v1/lookup/file"

        def post(name: str, data: bytes) -> httpx.Response:
            files = {"file": (name, data, "application/octet-stream")}
            return httpx.post(url, files=files, headers=auth(key), timeout=120)

        first = post("normal.png", normal)
        assert first.status_code == 200, first.text
        before = peak_rss_mb(served.proc.pid)
        r = post("bomb.png", bomb)
        after = peak_rss_mb(served.proc.pid)
        assert r.status_code == 413, r.text
        detail = r.json()["detail"]
        assert "12000x12000" in detail and "pixels" in detail
        assert after - before < 100, (before, after)  # decoding it would take ~150-600 MB

        again = post("normal.png", normal)
        assert again.status_code == 200
        body = again.json()
        assert body["error"] is None
        assert [r["value"] for r in body["results"] if r["signal"] == "pdq"] == [
            r["value"] for r in first.json()["results"] if r["signal"] == "pdq"
        ]
        assert any(r["signal"] == "pdq" for r in body["results"])


def test_budget_applies_to_full_size_decodes_only() -> None:
    limits = DecodeLimits(max_full_pixels=1_000_000)
    big_png = png(Image.new("L", (2000, 1000)))
    with pytest.raises(HashError, match="2000x1000 pixels exceeds the limit of 1000000 for PNG"):
        check_size(big_png, limits)
    with pytest.raises(HashError, match="2000x1000"):
        decode_rgb(big_png, limits)
    jpeg = io.BytesIO()
    Image.new("RGB", (2000, 1000)).save(jpeg, format="JPEG")
    check_size(jpeg.getvalue(), limits)  # JPEGs are decoded reduced: no full-size budget
    assert decode_rgb(jpeg.getvalue(), limits).shape[0] >= 512
    check_size(b"not an image at all", limits)  # decoding gives that its own reason
    check_size(big_png, DecodeLimits())  # the scan's limits: no full-size budget
