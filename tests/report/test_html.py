"""report.html: self-contained, summary and charts, matches grouped, thumbnails grey and blurred, escaped."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tests.report.scanfolder import colour_image, item, match, summary, write_scan
from vigil.report import make_thumbnail, write_report_html

THUMB_SRC = re.compile(
    r'<img class="thumb" alt="thumbnail of matched item" src="data:image/jpeg;base64,([^"]+)"'
)


def render(out: Path, **kwargs: Any) -> str:
    path = write_report_html(out, **kwargs)
    assert path == out / "report.html"
    return path.read_text(encoding="utf-8")


def style_rules(html: str) -> dict[str, str]:
    """Selector -> declarations of the page's top-level style rules (@media blocks left out)."""
    css = html.split("<style>", 1)[1].split("</style>", 1)[0]
    css = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", css)
    return {sel.strip(): body for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css)}


def thumbnails_from(images: dict[str, bytes]):
    def thumbnail(record: dict[str, Any]) -> bytes | None:
        data = images.get(record["path"])
        return make_thumbnail(data) if data is not None else None

    return thumbnail


def test_header_and_summary_numbers(scan_dir: Path) -> None:
    html = render(scan_dir)
    for text in (
        "CASE-2024-0042",
        "2024-05-01T10:00:00+00:00",
        "2024-05-01T10:05:00+00:00",
        "0.1.0",
        "f00dfeed" * 8,
        "987,654,321 bytes (987.7 MB)",
        "14.3 files/s",
        "3.29 MB/s",
        "/evidence/usb1",
        "e" * 64,  # evidence hash
        "4,321",  # evidence files
    ):
        assert text in html, text
    counts = dict(re.findall(r'data-verdict="(\w+)">([\d,]+)<', html))
    assert counts == {"known": "4", "similar": "1", "known_good": "1", "unknown": "1", "error": "1"}
    assert "disagree" not in html


def test_inline_svg_charts(scan_dir: Path) -> None:
    html = render(scan_dir)
    charts = re.findall(r'<svg class="chart".*?</svg>', html, re.S)
    assert len(charts) == 2
    verdicts, categories = charts
    assert 'role="img"' in verdicts and "<title" in verdicts
    assert verdicts.count("<rect") == 5
    assert 'width="300.0"' in verdicts  # the largest count (known: 4) spans the full bar width
    labels = re.findall(r'<text x="0" y="\d+">(\w+)</text>', categories)
    assert labels == ["A", "B", "C", "I", "X", "P", "N", "ungraded"]


def test_matches_grouped_by_category_then_series(scan_dir: Path) -> None:
    html = render(scan_dir)
    sections = re.findall(r'<section class="category" id="category-(\w+)">', html)
    assert sections == ["A", "B", "X", "ungraded"]
    a = html.split('id="category-A"')[1].split("</section>")[0]
    assert a.index("Series meadow") < a.index("No series")
    assert a.index("/evidence/usb1/known_a.jpg") < a.index("arc.zip!/inner/known_a2.png")
    x = html.split('id="category-X"')[1].split("</section>")[0]
    assert "Series orchard" in x and "/evidence/usb1/near.jpg" in x
    assert "pdq distance 5" in x and "entry 15" in x and "hotline-test" in x and "2 matches; best shown" in x
    assert "good.dll" not in html and "/evidence/usb1/a.jpg" not in html


def test_error_and_skipped_sections(scan_dir: Path) -> None:
    html = render(scan_dir)
    errors = html.split('id="errors"')[1].split("</table>")[0]
    assert "/evidence/usb1/broken.jpg" in errors and "decode failed: truncated image" in errors
    skipped = html.split('id="skipped"')[1].split("</table>")[0]
    assert "/evidence/usb1/fifo" in skipped and "not a regular file" in skipped and "symbolic link" in skipped


def test_thumbnails_embedded_grey_and_blurred(scan_dir: Path) -> None:
    images = {
        "/evidence/usb1/known_a.jpg": colour_image((640, 480), "JPEG", seed=1),
        "/evidence/usb1/arc.zip!/inner/known_a2.png": colour_image((300, 500), "PNG", seed=2),
        "/evidence/usb1/near.jpg": b"\xff\xd8\xff corrupt",
    }
    html = render(scan_dir, thumbnail=thumbnails_from(images))
    sources = THUMB_SRC.findall(html)
    assert len(sources) == 2
    for src in sources:
        img = Image.open(io.BytesIO(base64.b64decode(src)))
        assert img.format == "JPEG" and img.mode == "L" and max(img.size) <= 160
        rgb = np.asarray(img.convert("RGB"))
        assert (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()
    assert html.count("no thumbnail") == 3  # corrupt, no image bytes, and the ungraded item
    assert html.count("<img") == 2 and html.count('alt="thumbnail of matched item"') == 2
    rules = style_rules(html)
    assert "blur(" in rules[".thumb"] and "grayscale(1)" in rules[".thumb"]
    revealed = next(body for sel, body in rules.items() if ".thumb.revealed" in sel)
    assert "grayscale(1)" in revealed and "blur(0)" in revealed  # revealing unblurs, never recolours
    assert all("grayscale(1)" in body for sel, body in rules.items() if ".thumb" in sel and "filter" in body)


def test_reveal_all_is_off_by_default(scan_dir: Path) -> None:
    html = render(scan_dir, thumbnail=lambda _item: make_thumbnail(colour_image()))
    checkbox = re.search(r'<input type="checkbox" id="reveal-all"[^>]*>', html)
    assert checkbox is not None and "checked" not in checkbox.group(0)
    assert "<body>" in html
    assert 'aria-pressed="false"' in html and "mouseleave" in html
    on = render(scan_dir, reveal_default=True)
    assert '<body class="reveal-all">' in on
    assert re.search(r'<input type="checkbox" id="reveal-all"[^>]*checked>', on)


def test_thumbnail_failures_cost_only_the_thumbnail(scan_dir: Path) -> None:
    calls: list[str] = []

    def flaky(record: dict[str, Any]) -> bytes | None:
        calls.append(record["path"])
        raise OSError("evidence went away")

    html = render(scan_dir, thumbnail=flaky)
    assert len(calls) == 5  # once per matched item, never for the others
    assert "<img" not in html and html.count("no thumbnail") == 5


def test_hostile_paths_are_escaped(tmp_path: Path) -> None:
    evil = '/e/<script>alert("x")</script><img src=x onerror=alert(1)>.jpg'
    items = [
        item(evil, "known", [match(series="<b>s</b>", source="<i>src</i>")]),
        item(evil + ".bad", "error", status="error", error="<script>bad()</script>"),
    ]
    write_scan(
        tmp_path, items, summary(case="<script>case()</script>", skipped=[{"path": evil, "reason": "<x>"}])
    )
    html = render(tmp_path)
    assert html.count("<script") == 1  # only the page's own script
    assert "alert(" not in html.split("<script>")[1].split("</script>")[0]
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "<b>s</b>" not in html and "<i>src</i>" not in html
    assert "&lt;script&gt;bad()&lt;/script&gt;" in html and "&lt;script&gt;case()&lt;/script&gt;" in html


def test_self_contained_with_script_pinned_by_csp(scan_dir: Path) -> None:
    html = render(scan_dir, thumbnail=lambda _item: make_thumbnail(colour_image()))
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg"}  # the SVG namespace, never fetched
    assert not re.search(r'(?:src|href)="(?!data:)', html)
    assert "<link" not in html and "@import" not in html
    script = html.split("<script>")[1].split("</script>")[0]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert csp is not None
    assert f"script-src 'sha256-{digest}'" in csp.group(1) and "default-src 'none'" in csp.group(1)
    assert "autoplay" not in html


def test_without_summary_and_with_extra_keys(tmp_path: Path) -> None:
    write_scan(tmp_path, [item("/e/a.jpg", "known", [match()]), item("/e/b.jpg")])
    html = render(tmp_path)
    assert 'data-verdict="known">1<' in html and 'data-verdict="unknown">1<' in html
    assert "/e/a.jpg" in html
    extra = summary(
        counts={"items": 2},
        verdicts={"known": 5, "unknown": 1},
        store="not a mapping",
        recall={"planted": {"found": 9, "total": 10}},
        future_field={"nested": {"value": 42}},
    )
    write_scan(tmp_path, [item("/e/a.jpg", "known", [match()]), item("/e/b.jpg")], extra)
    html = render(tmp_path)
    assert "planted.found" in html and "planted.total" in html
    assert "future_field.nested.value" in html and ">42<" in html
    assert "disagree" in html and "known 5 in summary.json, 1 in items.jsonl" in html


def test_many_items_keep_only_matches(tmp_path: Path) -> None:
    items = [item(f"/e/{i:06}.jpg") for i in range(20_000)]
    items[12_345] = item("/e/hit.jpg", "similar", [match("pdq", 3, 9, "C")])
    write_scan(tmp_path, items)
    html = render(tmp_path)
    assert 'data-verdict="unknown">19,999<' in html
    assert html.count('class="card"') == 1 and "/e/hit.jpg" in html


def test_bidi_and_zero_width_characters_are_shown_escaped(tmp_path: Path) -> None:
    """photo<RLO>gpj.exe would read as photoexe.jpg: every path (matches, errors, skipped, evidence) and
    error shows such characters as <U+XXXX>."""
    rlo = "/e/photo\u202egpj.exe"
    items = [
        item(rlo, "known", [match()]),
        item(rlo + ".bad", "error", status="error", error=f"cannot read {rlo}.bad"),
    ]
    skipped = [{"path": "/e/zero\u200bwidth", "reason": "symbolic link"}]
    evidence = [{"path": "/e/\u2066case\u2069", "type": "folder", "files": 1, "bytes": 1, "sha256": None}]
    write_scan(tmp_path, items, summary(skipped=skipped, evidence=evidence))
    html = render(tmp_path)
    assert not any(c in html for c in "\u202e\u200b\u2066\u2069")
    shown = "/e/photo&lt;U+202E&gt;gpj.exe"
    assert f'<div class="path">{shown}</div>' in html
    assert f'<td class="path">{shown}.bad</td><td>cannot read {shown}.bad</td>' in html
    assert '<td class="path">/e/zero&lt;U+200B&gt;width</td>' in html
    assert '<td class="path">/e/&lt;U+2066&gt;case&lt;U+2069&gt;</td>' in html
