"""Conformance tests that every hash-set format reuses.

A format's test module subclasses `FormatConformance`, names the format and says what it can express::

    class TestMD5Sum(FormatConformance):
        format_name = "md5sum"
        written_signals = ("md5",)
        bad_lines = (("MD5 (a) = 123", "32 hex digits"),)

The inherited tests check that the format is registered; that writing `records` and reading the file back
gives the hashes (and the fields in `carries`) of every record the writer keeps, in order, with the count
it returned; that an empty export reads back as nothing; that a bad line anywhere is reported with its own
line number; that Windows line endings and a byte-order mark read the same; and that a file survives
`vigil import` then `vigil export` through a fresh store. Only pytest and benign made-up hashes are needed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import pytest

from vigil import exchange
from vigil.core.errors import ImportFormatError
from vigil.core.records import ExportRecord, HashRecord
from vigil.exchange.base import Format

CARRIABLE = ("category", "series", "victim_identified", "source", "notes", "size", "quality")


def fake_hash(signal: str, seed: str) -> bytes:
    """A deterministic made-up value for `signal` (benign: a digest of the seed text)."""
    digest = hashlib.sha512(f"{signal}:{seed}".encode()).digest()
    sizes = {"md5": 16, "sha1": 20, "sha256": 32, "pdq": 32}
    return digest[: sizes[signal]]


def sample_record(
    entry_id: int,
    signals: Sequence[str] = ("md5", "sha1", "sha256"),
    *,
    category: str | None = "A",
    series: str | None = None,
    victim_identified: bool = False,
    source: str | None = "sample-source",
    notes: str | None = None,
    size: int | None = None,
    quality: dict[str, int] | None = None,
) -> ExportRecord:
    return ExportRecord(
        entry_id=entry_id,
        hashes={s: fake_hash(s, str(entry_id)) for s in signals},
        quality=dict(quality or {}),
        category=category,
        series=series,
        victim_identified=victim_identified,
        source=source,
        notes=notes,
        size=size,
        media_type=None,
    )


def sample_records() -> tuple[ExportRecord, ...]:
    """Varied entries: full and partial hash sets, sizes or none, graded and ungraded, awkward text."""
    return (
        sample_record(1, category="A", series="harbour", size=1234),
        sample_record(2, ("md5",), category="B", victim_identified=True),
        sample_record(3, ("sha1", "sha256"), category=None, source=None, size=10),
        sample_record(4, ("sha256",), category="X", notes='says "hello", then, a comma'),
        sample_record(5, ("md5", "sha1"), category="G", size=0),
        sample_record(7, ("md5", "sha1", "sha256", "pdq"), category="P", quality={"pdq": 87}, size=99),
        sample_record(12, category="C", series="meadow", victim_identified=True, size=2**40),
        sample_record(13, ("sha1",), category="N"),
    )


class FormatConformance:
    """Base class of a format's conformance tests; pytest collects the subclasses (named Test...)."""

    format_name: ClassVar[str]
    records: ClassVar[tuple[ExportRecord, ...]] = sample_records()
    # The signals the writer writes (None: every signal a record has).
    written_signals: ClassVar[tuple[str, ...] | None] = None
    # Whether the writer skips records lacking one of `written_signals`, or lacking a size.
    needs_all_signals: ClassVar[bool] = False
    needs_size: ClassVar[bool] = False
    # ExportRecord fields (among CARRIABLE) that come back from a write/read round trip.
    carries: ClassVar[frozenset[str]] = frozenset()
    # Lines before the first record in a written file (a header, comments).
    header_lines: ClassVar[int] = 0
    # Bad lines and a fragment of the reason each must give.
    bad_lines: ClassVar[tuple[tuple[str, str], ...]] = (("this is not a hash line", ""),)

    # ---- helpers ----

    @property
    def fmt(self) -> Format:
        return exchange.get(self.format_name)

    def kept(self, rec: ExportRecord) -> dict[str, bytes] | None:
        """The hashes of `rec` the writer writes, or None if it skips the record."""
        names = self.written_signals or tuple(rec.hashes)
        hashes = {n: v for n, v in rec.hashes.items() if n in names}
        if not hashes or (self.needs_all_signals and len(hashes) != len(names)):
            return None
        if self.needs_size and rec.size is None:
            return None
        return hashes

    def expected(self) -> list[tuple[ExportRecord, dict[str, bytes]]]:
        out = []
        for rec in self.records:
            hashes = self.kept(rec)
            if hashes is not None:
                out.append((rec, hashes))
        return out

    def write(self, path: Path, records: Sequence[ExportRecord]) -> int:
        return exchange.write_file_atomic(path, self.fmt, iter(records))

    def read(self, path: Path) -> list[HashRecord]:
        return exchange.read_file(path, self.fmt)

    def assert_same(self, got: list[HashRecord], want: list[tuple[ExportRecord, dict[str, bytes]]]) -> None:
        assert [r.hashes for r in got] == [h for _, h in want]
        for read, (rec, _) in zip(got, want, strict=True):
            for name in self.carries:
                value = getattr(rec, name)
                if name == "victim_identified":
                    assert bool(read.victim_identified) == value, (name, rec.entry_id)
                elif name == "quality":
                    assert read.quality == {k: q for k, q in value.items() if k in read.hashes}
                else:
                    assert getattr(read, name) == value, (name, rec.entry_id)

    # ---- the tests ----

    def test_registered_by_its_name(self) -> None:
        assert self.format_name in exchange.names()
        assert self.fmt.name == self.format_name
        assert self.fmt.description
        assert set(self.carries) <= set(CARRIABLE)

    def test_round_trip_keeps_what_the_format_expresses(self, tmp_path: Path) -> None:
        path = tmp_path / f"out.{self.format_name}"
        want = self.expected()
        assert want, "the sample records must include some the format can write"
        assert self.write(path, self.records) == len(want)
        got = self.read(path)
        self.assert_same(got, want)
        lines = [r.line for r in got]
        assert lines == sorted(lines) and len(set(lines)) == len(lines) and lines[0] > self.header_lines

    def test_empty_export_reads_back_empty(self, tmp_path: Path) -> None:
        path = tmp_path / "empty.out"
        assert self.write(path, []) == 0
        assert path.exists()
        assert self.read(path) == []

    def test_bad_line_reports_its_line_number(self, tmp_path: Path) -> None:
        good = tmp_path / "good.out"
        self.write(good, self.records)
        lines = good.read_text(encoding="utf-8").splitlines()
        positions = sorted({self.header_lines, (self.header_lines + len(lines)) // 2, len(lines)})
        for text, reason in self.bad_lines:
            for pos in positions:
                bad = tmp_path / f"bad-{pos}.out"
                bad.write_text("\n".join([*lines[:pos], text, *lines[pos:]]) + "\n", encoding="utf-8")
                with pytest.raises(ImportFormatError) as info:
                    self.read(bad)
                err = info.value
                assert (err.file, err.line) == (str(bad), pos + 1), (text, str(err))
                assert reason in err.reason, (text, str(err))
                assert str(err).startswith(f"{bad}:{pos + 1}: ")

    def test_windows_line_endings_and_bom_read_the_same(self, tmp_path: Path) -> None:
        path = tmp_path / "unix.out"
        self.write(path, self.records)
        text = path.read_text(encoding="utf-8")
        windows = tmp_path / "windows.out"
        windows.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
        unix, win = self.read(path), self.read(windows)
        assert [(r.line, r.hashes, r.name, r.category, r.size) for r in win] == [
            (r.line, r.hashes, r.name, r.category, r.size) for r in unix
        ]

    def test_file_survives_import_and_export(self, tmp_path: Path) -> None:
        from click.testing import CliRunner

        from vigil.cli import main

        first, second = tmp_path / "first.out", tmp_path / "second.out"
        self.write(first, self.records)
        db = str(tmp_path / "store.db")
        runner = CliRunner()
        result = runner.invoke(main, ["--db", db, "import", str(first), "--format", self.format_name])
        assert result.exit_code == 0, result.output
        result = runner.invoke(main, ["--db", db, "export", str(second), "--format", self.format_name])
        assert result.exit_code == 0, result.output
        want = self.expected()
        got = self.read(second)
        assert [r.hashes for r in got] == [h for _, h in want]
        if "category" in self.carries:
            assert [r.category for r in got] == [rec.category for rec, _ in want]
