"""Import rules: duplicates, idempotence, known-good lists, and rows that contradict the store."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from tests.store.storecheck import cli, cli_import, entry_row, hexof, snapshot, write
from vigil.store import Store
from vigil.store.models import Assessment, Entry, Source

A, B, C = (hexof(f"item-{i}") for i in "abc")
A1, B1 = hexof("item-a", "sha1"), hexof("item-b", "sha1")


def count(store: Store, model: type) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_duplicate_rows_in_one_file_make_one_entry(any_store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "dups.csv", f"md5,category\n{A},B\n{B},C\n{A},B\n{A.upper()},B\n")
    stats = cli_import(any_store, path)[str(path)]
    assert (stats["records"], stats["entries_created"], stats["assessments_added"]) == (4, 2, 2)
    assert count(any_store, Entry) == 2 and count(any_store, Assessment) == 2
    assert entry_row(any_store, A).category == "B"


def test_row_adding_a_hash_to_an_earlier_rows_entry_joins_it(any_store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "join.csv", f"md5,sha1,category\n{A},,B\n{A},{A1},B\n")
    stats = cli_import(any_store, path)[str(path)]
    assert (stats["entries_created"], stats["signals_added"], stats["assessments_added"]) == (1, 2, 1)
    later = write(tmp_path / "later.csv", f"sha1,sha256\n{A1},{hexof('item-a', 'sha256')}\n")
    stats = cli_import(any_store, later)[str(later)]
    assert (stats["entries_created"], stats["signals_added"]) == (0, 1)
    assert snapshot(any_store).stats["signal_types"] == {"md5": 1, "sha1": 1, "sha256": 1}


def test_importing_the_same_file_twice_adds_nothing(any_store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path / "set.csv",
        f"md5,sha1,category,series,victim_identified\n{A},{A1},A,harbour,true\n{B},{B1},C,,\n{C},,,,\n",
    )
    first = cli_import(any_store, path)[str(path)]
    assert first["entries_created"] == 3
    before = snapshot(any_store)
    second = cli_import(any_store, path)[str(path)]
    assert second["entries_created"] == 0 and second["signals_added"] == 0
    assert second["assessments_added"] == 0 and second["entries_updated"] == 0
    assert second["unchanged"] == 3
    after = snapshot(any_store)
    assert after == before
    assert after.stats["change_seq"] == before.stats["change_seq"]


def test_known_good_import(any_store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "nsrl.csv", f"md5,category\n{A},\n{B},G\n{C},g\n")
    stats = cli_import(any_store, path, extra=("--known-good",))[str(path)]
    assert stats["entries_created"] == 3 and stats["sources"] == ["known-good"]
    assert snapshot(any_store).stats["categories"] == {"G": 3}
    with any_store.session() as session:
        source = session.scalars(select(Source)).one()
        assert (source.name, source.kind) == ("known-good", "known_good")
        assert set(session.scalars(select(Assessment.category))) == {"G"}


def test_known_good_import_with_a_named_source(any_store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "cleared.csv", f"md5\n{A}\n")
    cli_import(any_store, path, extra=("--known-good", "--source", "nsrl-2024.03"))
    with any_store.session() as session:
        source = session.scalars(select(Source)).one()
        assert (source.name, source.kind) == ("nsrl-2024.03", "known_good")
    assert entry_row(any_store, A).category == "G"


def test_graded_row_in_a_known_good_import_is_an_error(any_store: Store, tmp_path: Path) -> None:
    before = snapshot(any_store)
    path = write(tmp_path / "bad-good.csv", f"md5,category\n{A},G\n{B},A\n")
    result = cli(any_store, "import", str(path), "--format", "csv", "--known-good")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {path}:3: category A in a --known-good import"
    assert snapshot(any_store) == before


def test_category_option_grades_rows_without_one(any_store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", f"md5,category\n{A},\n{B},A\n")
    cli_import(any_store, path, extra=("--category", "x"))
    assert entry_row(any_store, A).category == "X"
    assert entry_row(any_store, B).category == "A"


def test_row_naming_hashes_of_two_entries_is_an_error(any_store: Store, tmp_path: Path) -> None:
    cli_import(any_store, write(tmp_path / "seed.csv", f"md5,sha1\n{A},\n{B},{B1}\n"))
    before = snapshot(any_store)
    one, two = entry_row(any_store, A).id, entry_row(any_store, B).id
    path = write(tmp_path / "mix.csv", f"md5,sha1\n{C},\n{A},{B1}\n")
    result = cli(any_store, "import", str(path), "--format", "csv")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: {path}:3: the row's hashes belong to different entries (entry {one}, entry {two})"
    )
    assert snapshot(any_store) == before


def test_row_giving_an_entry_a_second_sha1_is_an_error(any_store: Store, tmp_path: Path) -> None:
    cli_import(any_store, write(tmp_path / "seed.csv", f"md5,sha1\n{A},{A1}\n"))
    before = snapshot(any_store)
    eid = entry_row(any_store, A).id
    path = write(tmp_path / "second.csv", f"md5,sha1\n{B},\n{A},{B1}\n")
    result = cli(any_store, "import", str(path), "--format", "csv")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {path}:3: entry {eid} already has sha1 {A1}, the row gives {B1}"
    assert snapshot(any_store) == before


def test_conflicts_between_rows_of_one_file_are_errors(any_store: Store, tmp_path: Path) -> None:
    before = snapshot(any_store)
    two_sha1 = write(tmp_path / "two-sha1.csv", f"md5,sha1\n{A},{A1}\n{A},{B1}\n")
    result = cli(any_store, "import", str(two_sha1), "--format", "csv")
    assert result.exit_code == 1
    assert f"{two_sha1}:3: the entry of an earlier row (new #1) already has sha1 {A1}" in result.stderr
    joined = write(tmp_path / "joined.csv", f"md5,sha1\n{A},\n,{A1}\n{A},{A1}\n")
    result = cli(any_store, "import", str(joined), "--format", "csv")
    assert result.exit_code == 1
    assert f"{joined}:4: the row's hashes belong to different entries" in result.stderr
    assert snapshot(any_store) == before
