"""Fixtures for the report tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.scanfolder import item, match, summary, write_scan


@pytest.fixture
def scan_dir(tmp_path: Path) -> Path:
    """A scan folder with matches in several categories and series, errors and plain unknowns."""
    items = [
        item("/evidence/usb1/a.jpg"),
        item("/evidence/usb1/known_b.jpg", "known", [match(entry_id=11, category="B", series="harbour")]),
        item("/evidence/usb1/known_a.jpg", "known", [match(entry_id=12, category="A", series="meadow")]),
        item(
            "/evidence/usb1/arc.zip!/inner/known_a2.png",
            "known",
            [match(entry_id=13, category="A", series=None)],
            media_type="image/png",
        ),
        item(
            "/evidence/usb1/near.jpg",
            "similar",
            [match("pdq", 12, 14, "C"), match("pdq", 5, 15, "X", series="orchard")],
        ),
        item("/evidence/usb1/ungraded.jpg", "known", [match(entry_id=16, category=None)]),
        item("/evidence/usb1/good.dll", "known_good", [match(entry_id=17, category="G")]),
        item(
            "/evidence/usb1/broken.jpg",
            "error",
            status="error",
            error="decode failed: truncated image",
            sha256=None,
            md5=None,
            sha1=None,
            pdq=None,
            pdq_quality=None,
        ),
    ]
    return write_scan(tmp_path / "out", items, summary())
