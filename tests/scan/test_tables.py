"""The scan snapshot's exact-hash table: one lookup and the vectorised batch agree."""

from __future__ import annotations

import numpy as np

from vigil.scan.tables import ExactTable


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
