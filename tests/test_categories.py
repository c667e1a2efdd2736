"""The category vocabulary and its Project VIC VICS mapping (DESIGN.md §3)."""

from __future__ import annotations

import pytest

from vigil.core.categories import CATEGORIES, VICS_TO_CODE, parse_category, to_vics


def test_vocabulary_and_vics_mapping() -> None:
    assert list(CATEGORIES) == ["A", "B", "C", "I", "X", "P", "N", "G"]
    assert {c: to_vics(c) for c in CATEGORIES} == {
        "A": 1,
        "B": 1,
        "C": 1,
        "I": 1,
        "X": 2,
        "P": 3,
        "N": 4,
        "G": 0,
    }
    # Importing VICS 1 without a UK grade gives I; every VICS number maps back to a code of that number.
    assert VICS_TO_CODE[1] == "I"
    assert all(to_vics(code) == n for n, code in VICS_TO_CODE.items())


def test_parse_category() -> None:
    assert parse_category(" b ") == "B"
    with pytest.raises(ValueError, match="unknown category 'Z'"):
        parse_category("Z")
    with pytest.raises(ValueError, match="unknown category"):
        parse_category("")
