"""report.csv: exactly the matched items, each with its best match, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.report.scanfolder import item, match, summary, write_scan
from vigil.core.csvcell import safe_cell, unquote_text
from vigil.report import write_report_csv
from vigil.report.csvreport import COLUMNS


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_header_and_exactly_the_matched_rows(scan_dir: Path) -> None:
    path = write_report_csv(scan_dir)
    assert path == scan_dir / "report.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        assert next(csv.reader(fh)) == list(COLUMNS)
    rows = read_rows(path)
    assert [r["path"] for r in rows] == [
        "/evidence/usb1/known_b.jpg",
        "/evidence/usb1/known_a.jpg",
        "/evidence/usb1/arc.zip!/inner/known_a2.png",
        "/evidence/usb1/near.jpg",
        "/evidence/usb1/ungraded.jpg",
    ]
    assert {r["verdict"] for r in rows} == {"known", "similar"}


def test_best_match_is_smallest_distance(scan_dir: Path) -> None:
    rows = {r["path"]: r for r in read_rows(write_report_csv(scan_dir))}
    near = rows["/evidence/usb1/near.jpg"]
    assert (near["signal"], near["distance"], near["entry_id"], near["category"]) == ("pdq", "5", "15", "X")
    assert near["series"] == "orchard"
    assert near["match_count"] == "2"
    known_b = rows["/evidence/usb1/known_b.jpg"]
    assert (known_b["size"], known_b["md5"], known_b["deleted"], known_b["match_count"]) == (
        "1000",
        "a" * 32,
        "false",
        "1",
    )
    assert known_b["source"] == "hotline-test"
    assert rows["/evidence/usb1/ungraded.jpg"]["category"] == ""


def test_distance_ties_go_to_the_most_severe_category(tmp_path: Path) -> None:
    matches = [
        match("pdq", 8, 1, "N"),
        match("pdq", 8, 2, None),
        match("pdq", 8, 3, "B"),
        match("pdq", 9, 4, "A"),
    ]
    write_scan(tmp_path, [item("/e/x.jpg", "similar", matches, deleted=True, size=None, pdq=None)])
    (row,) = read_rows(write_report_csv(tmp_path))
    assert (row["entry_id"], row["category"], row["match_count"]) == ("3", "B", "4")
    assert (row["deleted"], row["size"], row["pdq"]) == ("true", "", "")


def test_formula_injection_is_quoted(tmp_path: Path) -> None:
    hostile = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
    items = [item(f"{p}.jpg", "known", [match(series="=cmd|' /C calc'!A0")]) for p in hostile]
    items.append(item("/safe/=inside.jpg", "known", [match()]))
    write_scan(tmp_path, items, summary())
    rows = read_rows(write_report_csv(tmp_path))
    assert [r["path"] for r in rows[:-1]] == [f"'{p}.jpg" for p in hostile]
    assert all(r["series"] == "'=cmd|' /C calc'!A0" for r in rows[:-1])
    assert rows[-1]["path"] == "/safe/=inside.jpg"
    assert rows[-1]["distance"] == "0"  # numbers are never quoted


def test_safe_cell() -> None:
    assert safe_cell(None) == ""
    assert safe_cell(True) == "true"
    assert safe_cell(-3) == -3
    assert safe_cell("-3") == "'-3"
    assert safe_cell("plain") == "plain"


def test_paths_with_commas_quotes_and_newlines_round_trip(tmp_path: Path) -> None:
    odd = '/e/a, "b"\nc.jpg'
    write_scan(tmp_path, [item(odd, "known", [match()])])
    (row,) = read_rows(write_report_csv(tmp_path))
    assert row["path"] == odd


def test_no_matches_gives_header_only(tmp_path: Path) -> None:
    write_scan(tmp_path, [item("/e/a.jpg"), item("/e/b.jpg", "known_good", [match(category="G")])])
    assert read_rows(write_report_csv(tmp_path)) == []


def test_quoting_is_undone_exactly() -> None:
    texts = ["=1", "'=1", "''=1", "'plain", "plain", "-", "@x", "\t=1", "\r=1", "", "'"]
    for text in texts:
        cell = safe_cell(text)
        assert isinstance(cell, str) and unquote_text(cell) == text
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_bidi_and_zero_width_characters_are_shown_escaped(tmp_path: Path) -> None:
    """A file called photo<RLO>gpj.exe would read as photoexe.jpg in a spreadsheet; items.jsonl keeps it."""
    raw = "/e/photo\u202egpj.exe\u200b"
    write_scan(tmp_path, [item(raw, "known", [match()])])
    (row,) = read_rows(write_report_csv(tmp_path))
    assert row["path"] == "/e/photo<U+202E>gpj.exe<U+200B>"
    assert json.loads((tmp_path / "items.jsonl").read_text(encoding="utf-8"))["path"] == raw
