"""Export then import into a fresh store keeps the entries; `export --since` gives only later changes."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from tests.store.storecheck import cli, cli_import, export_text, hexof, snapshot, write
from vigil import exchange
from vigil.store import Store
from vigil.store.models import Base

ITEMS = [f"item-{i}" for i in range(8)]


def md5(i: int) -> str:
    return hexof(ITEMS[i])


def sha1(i: int) -> str:
    return hexof(ITEMS[i], "sha1")


def sha256(i: int) -> str:
    return hexof(ITEMS[i], "sha256")


def populate(store: Store, tmp_path: Path) -> None:
    pdq = "f" * 16 + "0" * 48
    write(
        tmp_path / "agency.csv",
        "md5,sha1,sha256,pdq,pdq_quality,category,series,victim_identified,notes\n"
        f'{md5(0)},{sha1(0)},{sha256(0)},{pdq},92,A,harbour,true,"first, with a comma"\n'
        f"{md5(1)},,,,,B,harbour,false,\n"
        f",{sha1(2)},{sha256(2)},,,C,,,\n"
        f"{md5(3)},,,,,,,,ungraded\n"
        f",,{sha256(4)},,,X,meadow,yes,\n",
    )
    write(tmp_path / "hotline.csv", f"md5,category\n{md5(0)},B\n{md5(5)},P\n")
    write(tmp_path / "good.csv", f"sha1\n{sha1(6)}\n")
    cli_import(store, tmp_path / "agency.csv", extra=("--source", "agency"))
    cli_import(store, tmp_path / "hotline.csv", extra=("--source", "hotline"))
    cli_import(store, tmp_path / "good.csv", extra=("--known-good",))


def wipe(store: Store) -> Store:
    """Drop every table, then open the same database again: a fresh store on the same backend."""
    with store.engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE alembic_version"))
    store.close()
    return Store(store.url)


def records(path: Path) -> list[tuple[object, ...]]:
    return [
        (r.hashes, r.quality, r.category, r.series, r.victim_identified, r.source, r.notes)
        for r in exchange.read_file(path, exchange.get("csv"))
    ]


def test_csv_export_imports_into_a_fresh_store_unchanged(any_store: Store, tmp_path: Path) -> None:
    populate(any_store, tmp_path)
    exported = tmp_path / "export.csv"
    result = cli(any_store, "export", str(exported), "--format", "csv", "--json")
    assert result.exit_code == 0, result.stderr
    original = snapshot(any_store).stats
    assert original["entries"] == 7 and original["disputed"] == 1

    fresh = wipe(any_store)
    try:
        assert snapshot(fresh).stats["entries"] == 0
        stats = cli_import(fresh, exported)[str(exported)]
        assert stats["entries_created"] == 7
        again = tmp_path / "again.csv"
        assert cli(fresh, "export", str(again), "--format", "csv").exit_code == 0
        assert again.read_bytes() == exported.read_bytes()
        copy = snapshot(fresh).stats
    finally:
        fresh.close()
    for key in ("entries", "signals", "categories", "signal_types", "series"):
        assert copy[key] == original[key], key
    # The file carries each entry's effective grading, not its history: one assessment per entry.
    assert copy["assessments"] == 7 and copy["disputed"] == 0
    got = records(exported)
    assert got[0] == (
        {
            "md5": bytes.fromhex(md5(0)),
            "sha1": bytes.fromhex(sha1(0)),
            "sha256": bytes.fromhex(sha256(0)),
            "pdq": bytes.fromhex("f" * 16 + "0" * 48),
        },
        {"pdq": 92},
        "B",  # the hotline's later grading at equal trust
        "harbour",
        True,
        "hotline",
        "first, with a comma",
    )
    assert [r[2:6] for r in got[1:]] == [
        ("B", "harbour", False, "agency"),
        ("C", None, False, "agency"),
        (None, None, False, "agency"),
        ("X", "meadow", True, "agency"),
        ("P", None, False, "hotline"),
        ("G", None, False, "known-good"),
    ]


def test_export_since_gives_entries_changed_after_seq(any_store: Store, tmp_path: Path) -> None:
    first = write(tmp_path / "first.csv", f"md5,category\n{md5(0)},A\n{md5(1)},B\n{md5(2)},C\n")
    cli_import(any_store, first, extra=("--source", "s1"))
    seq = snapshot(any_store).stats["change_seq"]
    assert isinstance(seq, int) and seq >= 3
    # A new entry, a re-graded one and one unchanged row.
    second = write(tmp_path / "second.csv", f"md5,category\n{md5(3)},X\n{md5(1)},A\n{md5(2)},C\n")
    cli_import(any_store, second, extra=("--source", "s1"))

    out = tmp_path / "delta.csv"
    result = cli(any_store, "export", str(out), "--format", "csv", "--since", str(seq), "--json")
    assert result.exit_code == 0, result.stderr
    assert '"records": 2' in result.stdout
    assert [(r[0]["md5"].hex(), r[2]) for r in records(out)] == [(md5(1), "A"), (md5(3), "X")]
    assert export_text(any_store, since=snapshot(any_store).stats["change_seq"]).count("\n") == 1  # header

    everything = tmp_path / "all.csv"
    assert cli(any_store, "export", str(everything), "--format", "csv", "--since", "0").exit_code == 0
    assert len(records(everything)) == 4


def test_md5sum_and_hashdeep_exports_import_into_a_fresh_store(any_store: Store, tmp_path: Path) -> None:
    populate(any_store, tmp_path)
    sized = write(
        tmp_path / "sized.txt",
        "%%%% HASHDEEP-1.0\n%%%% size,md5,sha1,sha256,filename\n## test\n"
        f"77,{md5(7)},{sha1(7)},{sha256(7)},/evidence/seven, with comma.bin\n",
    )
    cli_import(any_store, sized, fmt="hashdeep", extra=("--source", "lab", "--category", "N"))
    for fmt, count in (("md5sum", 5), ("sha1sum", 4), ("sha256sum", 4), ("hashdeep", 1)):
        assert cli(any_store, "export", str(tmp_path / f"out.{fmt}"), "--format", fmt).exit_code == 0
        assert len(exchange.read_file(tmp_path / f"out.{fmt}", exchange.get(fmt))) == count, fmt
    fresh = wipe(any_store)
    try:
        cli_import(fresh, tmp_path / "out.hashdeep", fmt="hashdeep")
        cli_import(fresh, tmp_path / "out.md5sum", fmt="md5sum")
        stats = snapshot(fresh).stats
        # The hashdeep row and its md5 line are one entry; the other md5-only lines are new entries.
        assert stats["entries"] == 5 and stats["signal_types"] == {"md5": 5, "sha1": 1, "sha256": 1}
        again = tmp_path / "again.hashdeep"
        assert cli(fresh, "export", str(again), "--format", "hashdeep").exit_code == 0
        rows = [line for line in again.read_text().splitlines() if not line.startswith(("#", "%"))]
        assert rows == [f"77,{md5(7)},{sha1(7)},{sha256(7)},vigil/ungraded/1"]
    finally:
        fresh.close()
