"""report.html: one self-contained page, readable offline — summary, charts, matches, errors, skipped paths.

Wellness defaults: thumbnails are greyscale JPEGs (in the pixels) shown blurred and greyscale (in CSS) until
the reader clicks one; it blurs again on a second click, when the pointer leaves it or when it loses focus.
"Reveal all" is off unless `reveal_default`. The page loads nothing: its Content-Security-Policy allows only
data: images, its own styles and its one script (pinned by hash), so a hostile file name cannot run code even
if it got past escaping.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2

from vigil.core.fsio import atomic_write
from vigil.core.text import shown_value
from vigil.report.collect import collect, group_matches
from vigil.report.common import read_items, read_summary
from vigil.report.view import summary_view

Thumbnail = Callable[[dict[str, Any]], bytes | None]
TEMPLATE = "report.html.j2"
SCRIPT = "reveal.js"


def write_report_html(
    out_dir: Path, thumbnail: Thumbnail | None = None, *, reveal_default: bool = False
) -> Path:
    """Write out_dir/report.html from items.jsonl (streamed) and summary.json; return its path.

    `thumbnail(item)` returns JPEG bytes for a matched item, or None; it is called once per matched item
    while the page is written, so thumbnails are never all in memory at once. One that raises gives no
    thumbnail rather than no report.
    """
    collected = collect(read_items(out_dir))
    env = _env()
    script = env.loader.get_source(env, SCRIPT)[0] if env.loader else ""
    template = env.get_template(TEMPLATE)
    path = out_dir / "report.html"
    with atomic_write(path) as fh:
        for chunk in template.generate(
            s=summary_view(read_summary(out_dir), collected),
            groups=group_matches(collected.matches),
            match_count=len(collected.matches),
            errors=collected.errors,
            error_count=collected.error_count,
            reveal_default=reveal_default,
            thumb=_data_uri_maker(thumbnail),
            script=script,
            script_hash=base64.b64encode(hashlib.sha256(script.encode()).digest()).decode(),
        ):
            fh.write(chunk)
    return path


def _data_uri_maker(thumbnail: Thumbnail | None) -> Callable[[dict[str, Any]], str | None]:
    def data_uri(item: dict[str, Any]) -> str | None:
        if thumbnail is None:
            return None
        try:
            data = thumbnail(item)
        except Exception:  # a thumbnail is a convenience: its failure must not cost the report
            return None
        if not data:
            return None
        return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")

    return data_uri


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("vigil.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = format_number
    env.filters["size"] = format_bytes
    env.filters["shown"] = (
        shown_value  # paths: bidi and zero-width characters as <U+XXXX> (items.jsonl keeps them)
    )
    return env


def format_number(value: Any) -> str:
    """Thousands separators for numbers; an em dash for a missing value; anything else as text."""
    if value is None:
        return "—"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def format_bytes(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return format_number(value)
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if value >= scale:
            return f"{value:,} bytes ({value / scale:.1f} {unit})"
    return f"{value:,} bytes"
