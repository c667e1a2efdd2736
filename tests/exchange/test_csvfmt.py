"""vigil's CSV hash set: text a spreadsheet would run is quoted on export, and vigil reads its own export
back exactly (the quote it added is taken off again)."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from click.testing import CliRunner

from vigil import exchange
from vigil.cli import main

HOSTILE = (
    ("=SUM(1+1)", "@evil-partner", '=HYPERLINK("evil.example")'),
    ("'=already quoted", "+1", "-2 notes"),
    ("\t=tab led", "''=two quotes", "plain notes"),
    ("'plain quoted", "plain source", "=cmd|' -C calc'!A0"),
)


def run(db: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--db", str(db), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_formulas_are_quoted_and_the_export_reads_back_exactly(tmp_path: Path) -> None:
    rows = [
        {
            "md5": hashlib.md5(str(i).encode()).hexdigest(),
            "category": "A",
            "series": s,
            "source": src,
            "notes": n,
        }
        for i, (s, src, n) in enumerate(HOSTILE)
    ]
    first = tmp_path / "first.csv"
    with open(first, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, ["md5", "category", "series", "source", "notes"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    run(tmp_path / "a.db", "import", str(first), "--format", "csv")
    export_a = tmp_path / "a.csv"
    run(tmp_path / "a.db", "export", str(export_a), "--format", "csv")

    with open(export_a, encoding="utf-8", newline="") as fh:
        cells = [(r["series"], r["source"], r["notes"]) for r in csv.DictReader(fh)]
    for row in cells:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert cells[0] == ("'=SUM(1+1)", "'@evil-partner", '\'=HYPERLINK("evil.example")')

    read = exchange.read_file(export_a, exchange.get("csv"))
    assert [(r.series, r.source, r.notes) for r in read] == [
        ("=SUM(1+1)", "@evil-partner", '=HYPERLINK("evil.example")'),
        ("=already quoted", "+1", "-2 notes"),  # a foreign file's own quote is taken as one
        ("=tab led", "'=two quotes", "plain notes"),  # import strips outer whitespace
        ("'plain quoted", "plain source", "=cmd|' -C calc'!A0"),
    ]
    run(tmp_path / "b.db", "import", str(export_a), "--format", "csv")
    export_b = tmp_path / "b.csv"
    run(tmp_path / "b.db", "export", str(export_b), "--format", "csv")
    assert export_b.read_bytes() == export_a.read_bytes()
