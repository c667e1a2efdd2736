"""The scan snapshot's exact-hash table: one lookup and the vectorised batch agree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner

from tests.exchange.formats import fake_hash
from vigil.cli import main
from vigil.match.tables import EntryTable, ExactTable
from vigil.store import Store
from vigil.store.entries import set_status


def test_get_many_equals_get_one_by_one() -> None:
    rng = np.random.default_rng(8)
    values = [rng.bytes(20) for _ in range(500)]
    # Values sharing their first 8 bytes (same sort key), and one value owned by two entries.
    twins = [values[0][:8] + rng.bytes(12) for _ in range(3)]
    rows = [(i + 1, v) for i, v in enumerate(values + twins)] + [(9999, values[7]), (77, b"short")]
    table = ExactTable(20, [rows[:200], rows[200:]])
    queries = [*values[:50], *twins, values[7], rng.bytes(20), values[0][:8] + b"\0" * 12, b"", b"x" * 21]
    expected = [table.get(q) for q in queries]
    assert table.get_many(queries) == expected
    assert sorted(table.get(values[7])) == [8, 9999]
    assert expected[-4:] == [[], [], [], []]
    assert table.get_many([]) == [] and ExactTable(20, []).get_many([values[0]]) == [[]]


def test_describe_gives_active_entries_only(sqlite_url: str, tmp_path: Path) -> None:
    rows = "\n".join(f"{fake_hash('md5', str(i)).hex()},{'ABC'[i % 3]},s{i % 2}" for i in range(6))
    (tmp_path / "k.csv").write_text("md5,category,series\n" + rows + "\n")
    result = CliRunner().invoke(
        main, ["--db", sqlite_url, "import", str(tmp_path / "k.csv"), "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    with Store(sqlite_url) as store:
        with store.transaction() as session:
            set_status(session, [2], "retracted")
        with store.session() as session:
            table = EntryTable(session)
    described = table.describe([1, 2, 3, 3, 99, 0])
    assert described == {1: ("A", "s0", "local"), 3: ("C", "s0", "local")}
    assert all(
        table.describe([eid]) == ({eid: described[eid]} if eid in described else {}) for eid in (1, 2, 3)
    )
    assert table.describe([]) == {}
