"""`vigil import` of bad CSV: exit 1, one line `file:line: reason`, and the store's content untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.store.storecheck import cli, cli_import, export_text, hexof, snapshot, write
from vigil.store import Store

H = [hexof(f"row-{i}") for i in range(6)]
SHA1 = hexof("row-0", "sha1")


@pytest.fixture
def store(any_store: Store, tmp_path: Path) -> Store:
    """A store that already holds a few entries, so 'unchanged' means something."""
    seed = write(
        tmp_path / "seed.csv",
        f"md5,sha1,category,series,source\n{H[0]},{SHA1},A,harbour,s1\n{H[1]},,B,,s2\n{H[2]},,,,\n",
    )
    cli_import(any_store, seed)
    return any_store


BAD_CASES = [
    pytest.param(f"md5,category\n{H[3]},A\n{H[4]},A,extra\n", 3, "expected 2 fields, found 3", id="fields"),
    pytest.param(f"md5,category\n{H[3]},A\n{H[4]},Q\n", 3, "unknown category 'Q'", id="category"),
    pytest.param(f"md5\n{H[3]}\n{'zz' * 16}\n", 3, "md5 value is not hexadecimal", id="hex"),
    pytest.param(f"md5\n{H[3]}\n{H[4][:30]}\n", 3, "md5 value must be 32 hex digits, got 30", id="length"),
    pytest.param(f"sha1\n{H[3]}\n", 2, "sha1 value must be 40 hex digits, got 32", id="md5-as-sha1"),
    pytest.param(f"md5,sha1,category\n{H[3]},,A\n,,B\n", 3, "row has no hash value", id="no-hash"),
    pytest.param(f"md5,colour\n{H[3]},red\n", 1, "unknown column 'colour'", id="unknown-column"),
    pytest.param(f"md5,category,MD5\n{H[3]},A,{H[3]}\n", 1, "column 'md5' appears twice", id="dup-column"),
    pytest.param("", 1, "empty file: expected a header row", id="empty"),
    pytest.param("category,series\nA,x\n", 1, "no hash column", id="no-hash-column"),
    pytest.param(
        f"md5,victim_identified\n{H[3]},perhaps\n", 2, "victim_identified must be true/false", id="bool"
    ),
    pytest.param(f"md5,pdq_quality\n{H[3]},80\n", 2, "pdq_quality given without a pdq hash", id="quality"),
    # An unclosed quote would otherwise swallow every row after it into one notes field.
    pytest.param(
        f'md5,notes\n{H[3]},ok\n{H[4]},"never closed\n{H[5]},x\n',
        3,
        "unreadable CSV: unexpected end of data (in the row from line 3 to 4)",
        id="open-quote",
    ),
    pytest.param(f'md5,notes\n{H[3]},"quoted"tail\n', 2, "unreadable CSV", id="text-after-quote"),
]


def assert_refused(result: object, path: Path, line: int, reason: str) -> None:
    assert result.exit_code == 1, result.stderr  # type: ignore[attr-defined]
    stderr = result.stderr.strip()  # type: ignore[attr-defined]
    assert len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith(f"Error: {path}:{line}: "), stderr
    assert reason in stderr, stderr


@pytest.mark.parametrize(("text", "line", "reason"), BAD_CASES)
def test_bad_csv_is_refused_with_its_line_and_changes_nothing(
    store: Store, tmp_path: Path, text: str, line: int, reason: str
) -> None:
    before = snapshot(store)
    path = write(tmp_path / "bad.csv", text)
    assert_refused(cli(store, "import", str(path), "--format", "csv"), path, line, reason)
    assert snapshot(store) == before


def test_file_that_is_not_utf8_is_refused(store: Store, tmp_path: Path) -> None:
    before = snapshot(store)
    path = tmp_path / "latin1.csv"
    path.write_bytes(f"md5,notes\n{H[3]},caf\xe9\n".encode("latin-1"))
    result = cli(store, "import", str(path), "--format", "csv")
    assert result.exit_code == 1 and "not UTF-8" in result.stderr
    assert snapshot(store) == before


def test_ignore_extra_accepts_unknown_columns(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "extra.csv", f"md5,colour,category\n{H[3]},red,C\n")
    assert cli(store, "import", str(path), "--format", "csv").exit_code == 1
    stats = cli_import(store, path, extra=("--ignore-extra",))[str(path)]
    assert stats["entries_created"] == 1
    assert f"{H[3]},,,,,,C," in export_text(store)


def test_byte_order_mark_and_upper_case_hex_are_accepted(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + f"md5,category\n{H[3].upper()},B\n".encode())
    assert cli_import(store, path)[str(path)]["entries_created"] == 1
    export = export_text(store)
    assert f"{H[3]},,,,,,B," in export  # the BOM did not eat the header, and hex is stored as bytes
    assert H[3].upper() not in export
    again = write(tmp_path / "lower.csv", f"md5,category\n{H[3]},B\n")
    assert cli_import(store, again)[str(again)]["entries_created"] == 0  # the same value, not a new one


@pytest.mark.parametrize("chunk", [None, 100], ids=["one-chunk", "chunks-of-100"])
def test_bad_last_line_after_1000_good_ones_changes_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int | None
) -> None:
    if chunk is not None:  # earlier chunks are written to the database before the bad line is read
        monkeypatch.setattr("vigil.store.ingest.RECORDS_PER_CHUNK", chunk)
    before = snapshot(store)
    rows = "".join(f"{hexof(f'bulk-{i}')},C\n" for i in range(1000))
    path = write(tmp_path / "big.csv", f"md5,category\n{rows}{hexof('bulk-last')},Z\n")
    assert_refused(cli(store, "import", str(path), "--format", "csv"), path, 1002, "unknown category 'Z'")
    assert snapshot(store) == before


def test_conflict_found_by_the_store_in_a_later_chunk_changes_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("vigil.store.ingest.RECORDS_PER_CHUNK", 100)
    before = snapshot(store)
    rows = "".join(f"{hexof(f'bulk-{i}')},,C\n" for i in range(300))
    # The last row's md5 belongs to one seeded entry and its sha1 to another.
    path = write(tmp_path / "conflict.csv", f"md5,sha1,category\n{rows}{H[1]},{SHA1},C\n")
    assert_refused(
        cli(store, "import", str(path), "--format", "csv"), path, 302, "belong to different entries"
    )
    assert snapshot(store) == before


def test_bad_second_file_imports_nothing_from_the_first(store: Store, tmp_path: Path) -> None:
    before = snapshot(store)
    good = write(tmp_path / "a.csv", f"md5,category\n{H[3]},A\n{H[4]},B\n")
    bad = write(tmp_path / "b.csv", f"md5,category\n{H[5]},A\nnot-a-hash,A\n")
    assert_refused(cli(store, "import", str(good), str(bad), "--format", "csv"), bad, 3, "md5 value")
    assert snapshot(store) == before
    # The good file alone imports fine.
    assert cli_import(store, good)[str(good)]["entries_created"] == 2
