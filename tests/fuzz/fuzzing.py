"""What the fuzz tests share: the hypothesis settings (few examples in `make test`, many under
``VIGIL_FUZZ=1``, as `make fuzz` runs them), the seed corpus, and mutations of a valid file.

The settings are a decorator (`FUZZ`), not a loaded profile, so the rest of the suite keeps its own."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

CORPUS = Path(__file__).parent / "corpus"

settings.register_profile(
    "vigil-fuzz-quick", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "vigil-fuzz", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
FUZZ = settings.get_profile("vigil-fuzz" if os.environ.get("VIGIL_FUZZ") == "1" else "vigil-fuzz-quick")


def seed(name: str) -> bytes:
    """A small valid file of the corpus (benign made-up hashes)."""
    return (CORPUS / name).read_bytes()


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """`original` after one to four mutations: a byte flipped, bytes inserted or deleted, the end cut off,
    a line duplicated or dropped."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "dup_line", "drop_line"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif op == "insert":
            data[at:at] = draw(
                st.binary(min_size=1, max_size=8) | st.sampled_from([b",", b"\n", b'"', b"{", b"\x00"])
            )
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif op == "truncate":
            del data[at:]
        else:
            lines = bytes(data).splitlines(keepends=True)
            if lines:
                i = draw(st.integers(0, len(lines) - 1))
                lines[i:i] = [lines[i]] if op == "dup_line" else []
                if op == "drop_line":
                    del lines[i]
                data = bytearray(b"".join(lines))
    return bytes(data)


def random_input() -> st.SearchStrategy[bytes]:
    """Random bytes, or random text (so line-based parsers see more than undecodable noise)."""
    return st.binary(max_size=512) | st.text(max_size=256).map(lambda t: t.encode("utf-8", "surrogatepass"))
