"""Benign test videos made with PyAV: moving generated shapes, so every second looks different."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from tests.imagegen import render_image


def make_video(
    path: Path,
    seed: int,
    *,
    seconds: int = 6,
    fps: int = 5,
    size: tuple[int, int] = (320, 240),
    codec: str = "mpeg4",
    bitrate: int = 800_000,
    scale: float = 1.0,
) -> Path:
    """A video of `seconds` scenes (one generated picture per second, drifting slowly within it);
    `scale` shrinks every frame (the same video re-encoded smaller)."""
    base_w, base_h = size
    w, h = max(16, round(base_w * scale)) // 2 * 2, max(16, round(base_h * scale)) // 2 * 2
    scenes = [render_image("shapes", seed * 100 + s, (base_w + 40, base_h + 40)) for s in range(seconds)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        if bitrate:
            stream.bit_rate = bitrate
        for i in range(seconds * fps):
            dx = i % fps * 2
            picture = scenes[i // fps].crop((dx, dx, dx + base_w, dx + base_h)).resize((w, h))
            frame = av.VideoFrame.from_ndarray(np.asarray(picture), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
