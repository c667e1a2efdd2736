"""report.csv and report.html from a hand-written scan output folder."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image

from tests.imagegen import render_image
from vigil.report import write_report_csv, write_report_html
from vigil.report.thumbs import make_thumbnail


def item(path: str, verdict: str, matches: list[dict] | None = None, **kw: object) -> dict:
    base = {
        "path": path,
        "size": 10,
        "md5": "0" * 32,
        "sha1": "1" * 40,
        "sha256": "2" * 64,
        "pdq": None,
        "pdq_quality": None,
        "media_type": "image/jpeg",
        "deleted": False,
        "status": "ok",
        "error": None,
        "verdict": verdict,
        "matches": matches or [],
    }
    return base | kw


def match(
    entry: int, category: str | None, distance: int = 0, signal: str = "md5", series: str | None = None
):
    return {
        "signal": signal,
        "distance": distance,
        "entry_id": entry,
        "category": category,
        "series": series,
        "source": "agency",
    }


@pytest.fixture
def out(tmp_path: Path) -> Path:
    records = [
        item("ev/a.jpg", "known", [match(1, "C"), match(2, "A", signal="sha1")]),
        item("ev/b.jpg", "similar", [match(3, "B", 12, "pdq", "s-1"), match(4, "C", 5, "pdq")]),
        item("ev/=cmd().jpg", "known", [match(5, None)]),
        item("ev/<script>alert(1)</script>.jpg", "known", [match(6, "X", series="s-2")]),
        item("ev/good.txt", "known_good", [match(7, "G")]),
        item("ev/new.jpg", "unknown"),
        item("ev/bad.jpg", "error", status="error", error="cannot decode image: image file is truncated"),
    ]
    (tmp_path / "items.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    summary = {
        "vigil_version": "0.1.0",
        "scan_id": 7,
        "case": "op-test",
        "evidence": [{"path": "ev", "type": "folder", "files": 7, "bytes": 70, "sha256": "ab" * 32}],
        "store": {"url": "sqlite:///x", "fingerprint": "f00d", "entries": 7, "signals": 9},
        "started_at": "2026-11-23T10:00:00+00:00",
        "finished_at": "2026-11-23T10:01:00+00:00",
        "duration_s": 60.0,
        "counts": {"items": 7, "files_read": 7, "bytes_read": 123456, "errors": 1, "skipped": 1},
        "verdicts": {"known": 3, "similar": 1, "known_good": 1, "unknown": 1, "error": 1},
        "categories": {"A": 1, "B": 1, "X": 1, "ungraded": 1},
        "series": {"s-1": 1, "s-2": 1},
        "skipped": [{"path": "ev/link", "reason": "symbolic link to /etc (not followed)"}],
        "throughput": {"files_per_s": 1.0, "mb_per_s": 0.1},
        "future_key": {"ignored": True},
    }
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    return tmp_path


def test_csv_has_one_row_per_reported_item_with_best_match(out: Path) -> None:
    write_report_csv(out)
    rows = list(csv.DictReader(io.StringIO((out / "report.csv").read_text())))
    paths = ["ev/a.jpg", "ev/b.jpg", "ev/=cmd().jpg", "ev/<script>alert(1)</script>.jpg"]
    assert [r["path"] for r in rows] == paths
    a, b, cmd, _ = rows
    assert a["category"] == "A" and a["entry_id"] == "2" and a["match_count"] == "2"  # tie -> most severe
    assert b["category"] == "C" and b["distance"] == "5" and b["signal"] == "pdq"  # nearest wins
    assert cmd["category"] == "" and cmd["verdict"] == "known"
    assert not list(out.glob(".report.csv.*"))


def test_csv_guards_against_formula_injection(tmp_path: Path) -> None:
    (tmp_path / "items.jsonl").write_text(json.dumps(item("=HYPERLINK(1)", "known", [match(1, "A")])) + "\n")
    write_report_csv(tmp_path)
    row = next(csv.DictReader(io.StringIO((tmp_path / "report.csv").read_text())))
    assert row["path"] == "'=HYPERLINK(1)"


def test_html_report_contents(out: Path) -> None:
    pic = io.BytesIO()
    render_image("shapes", 1, (300, 200)).save(pic, "JPEG")
    thumb = make_thumbnail(pic.getvalue())
    assert thumb is not None
    write_report_html(out, lambda it: thumb if it["path"] != "ev/b.jpg" else None)
    html = (out / "report.html").read_text()
    assert "op-test" in html and "f00d" in html and "123,456" in html
    assert html.count("<svg") == 2 and "<rect" in html
    # Grouped by category, most severe first; ungraded last.
    order = [html.index(f'id="category-{c}"') for c in ("A", "C", "X", "ungraded")]
    assert order == sorted(order)
    assert "Series s-2" in html
    # Paths are escaped, never markup.
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # Errors and skipped paths are listed.
    assert "image file is truncated" in html and "symbolic link to /etc" in html
    # Thumbnails: embedded, blurred and greyscale by default in CSS, greyscale in the pixels.
    uris = re.findall(r'src="data:image/jpeg;base64,([^"]+)"', html)
    assert len(uris) == 3 and html.count("no thumbnail") == 1
    css = re.search(r"\.thumb \{[^}]*\}", html)
    assert css and "blur(" in css.group(0) and "grayscale(1)" in css.group(0)
    assert 'class="reveal-all"' not in html.split("<body", 1)[1].split(">", 1)[0]
    img = Image.open(io.BytesIO(base64.b64decode(uris[0])))
    assert img.mode == "L" and max(img.size) <= 160
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert not list(out.glob(".report.html.*"))


def test_thumbnail_of_bad_data_is_none() -> None:
    assert make_thumbnail(b"\xff\xd8\xff\xe0 not really a jpeg") is None
    assert make_thumbnail(b"") is None
    big = io.BytesIO()
    Image.new("1", (5000, 5000)).save(big, "PNG")
    assert make_thumbnail(big.getvalue(), max_pixels=1_000_000) is None


def test_thumbnail_is_greyscale_even_from_colour() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), (255, 0, 0)).save(buf, "PNG")
    data = make_thumbnail(buf.getvalue())
    assert data is not None
    img = Image.open(io.BytesIO(data))
    assert img.mode == "L" and img.size == (160, 120)
