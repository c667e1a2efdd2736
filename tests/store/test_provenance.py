"""Provenance: every grading is kept, the effective one follows the policy, conflicts are flagged."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.store.storecheck import cli_import, entry_row, hexof, snapshot, write
from vigil.store import Store
from vigil.store.models import Assessment, Signal, Source

MD5 = hexof("graded-item")


def grade(store: Store, tmp_path: Path, source: str, category: str, name: str | None = None) -> dict:
    path = write(tmp_path / (name or f"{source}-{category}.csv"), f"md5,category\n{MD5},{category}\n")
    return cli_import(store, path, extra=("--source", source))[str(path)]


def assessments(store: Store) -> list[tuple[str, str | None]]:
    with store.session() as session:
        rows = session.execute(
            select(Source.name, Assessment.category)
            .join(Source, Source.id == Assessment.source_id)
            .join(Signal, Signal.entry_id == Assessment.entry_id)
            .where(Signal.type == "md5", Signal.value == bytes.fromhex(MD5))
            .order_by(Assessment.id)
        )
        return [(name, cat) for name, cat in rows]


def source_id(store: Store, name: str) -> int:
    with store.session() as session:
        sid = session.scalar(select(Source.id).where(Source.name == name))
        assert sid is not None
        return int(sid)


def set_trust(store: Store, name: str, trust: int) -> None:
    with store.transaction() as session:
        session.execute(update(Source).where(Source.name == name).values(trust=trust))


@pytest.mark.parametrize(("first", "second"), [("A", "C"), ("C", "A")])
def test_two_sources_disagree_both_kept_latest_wins_at_equal_trust(
    any_store: Store, tmp_path: Path, first: str, second: str
) -> None:
    grade(any_store, tmp_path, "s1", first)
    stats = grade(any_store, tmp_path, "s2", second)
    assert stats["entries_created"] == 0 and stats["assessments_added"] == 1
    assert stats["entries_updated"] == 1
    assert assessments(any_store) == [("s1", first), ("s2", second)]
    entry = entry_row(any_store, MD5)
    assert entry.disputed is True
    assert entry.category == second
    assert entry.source_id == source_id(any_store, "s2")


def test_more_trusted_source_wins_over_a_later_one(any_store: Store, tmp_path: Path) -> None:
    grade(any_store, tmp_path, "s1", "A")
    set_trust(any_store, "s1", 90)
    grade(any_store, tmp_path, "s2", "C")
    entry = entry_row(any_store, MD5)
    assert assessments(any_store) == [("s1", "A"), ("s2", "C")]
    assert (entry.category, entry.disputed) == ("A", True)
    assert entry.source_id == source_id(any_store, "s1")


def test_less_trusted_earlier_source_loses(any_store: Store, tmp_path: Path) -> None:
    grade(any_store, tmp_path, "s1", "A")
    set_trust(any_store, "s1", 10)
    grade(any_store, tmp_path, "s2", "C")
    set_trust(any_store, "s2", 90)  # trust changes apply at the next grading of the entry
    grade(any_store, tmp_path, "s1", "B")
    entry = entry_row(any_store, MD5)
    assert assessments(any_store) == [("s1", "A"), ("s2", "C"), ("s1", "B")]
    assert (entry.category, entry.disputed) == ("C", True)


def test_same_source_same_grading_adds_nothing(any_store: Store, tmp_path: Path) -> None:
    grade(any_store, tmp_path, "s1", "A")
    before = snapshot(any_store)
    stats = grade(any_store, tmp_path, "s1", "A", name="again.csv")
    assert stats["assessments_added"] == 0 and stats["entries_updated"] == 0 and stats["unchanged"] == 1
    assert snapshot(any_store) == before


def test_same_source_regrading_is_added_and_becomes_effective(any_store: Store, tmp_path: Path) -> None:
    grade(any_store, tmp_path, "s1", "A")
    change_seq = snapshot(any_store).stats["change_seq"]
    stats = grade(any_store, tmp_path, "s1", "B")
    assert stats["assessments_added"] == 1 and stats["entries_updated"] == 1
    assert assessments(any_store) == [("s1", "A"), ("s1", "B")]
    assert entry_row(any_store, MD5).category == "B"
    assert snapshot(any_store).stats["change_seq"] == change_seq + 1


def test_same_source_going_back_to_an_earlier_grading_is_added(any_store: Store, tmp_path: Path) -> None:
    grade(any_store, tmp_path, "s1", "A")
    grade(any_store, tmp_path, "s1", "B")
    stats = grade(any_store, tmp_path, "s1", "A", name="back-to-a.csv")
    assert stats["assessments_added"] == 1
    assert assessments(any_store) == [("s1", "A"), ("s1", "B"), ("s1", "A")]
    assert entry_row(any_store, MD5).category == "A"


def test_source_column_overrides_the_import_source(any_store: Store, tmp_path: Path) -> None:
    other = hexof("other-item")
    path = write(tmp_path / "mixed.csv", f"md5,category,source\n{MD5},A,hotline-1\n{other},B,\n")
    stats = cli_import(any_store, path, extra=("--source", "agency-x"))[str(path)]
    assert stats["sources"] == ["agency-x", "hotline-1"]
    assert assessments(any_store) == [("hotline-1", "A")]
    assert entry_row(any_store, other).source_id == source_id(any_store, "agency-x")
