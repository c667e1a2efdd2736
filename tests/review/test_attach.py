"""Attaching scan folders: idempotent, refuses what is not a finished vigil scan; near-duplicates grouped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.review.conftest import add_user, distinct, near_duplicates, scan
from vigil.config import Settings
from vigil.review import (
    ReviewError,
    Scope,
    attach_folder,
    attach_scan,
    queue,
    read_scan_folder,
    scan_and_attach,
)
from vigil.review.items import components, item_key
from vigil.store import Store
from vigil.store.models import Audit, ReviewItem, ReviewLink, Scan


def count(store: Store, model: type) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_attach_is_idempotent_and_groups_near_duplicates(
    any_store: Store, tmp_path: Path, settings: Settings
) -> None:
    ev = tmp_path / "evidence"
    series = near_duplicates(ev, seed=11)
    others = distinct(ev, [21, 22])
    (ev / "notes.txt").write_text("a harmless text file\n")
    summary = scan(any_store, ev, tmp_path / "out")
    assert summary["verdicts"]["unknown"] == 6
    analyst = add_user(any_store, "ana", "analyst")

    first = attach_folder(any_store, tmp_path / "out", user=analyst, settings=settings)
    assert first.scan_id == summary["scan_id"] and not first.recorded  # vigil scan recorded it already
    assert (first.sightings, first.items_created, first.groups) == (6, 6, 1)
    again = attach_folder(any_store, tmp_path / "out", user=analyst, settings=settings)
    assert (again.scan_id, again.sightings, again.items_created) == (first.scan_id, 0, 0)
    assert count(any_store, ReviewItem) == 6 and count(any_store, ReviewLink) == 6
    assert count(any_store, Scan) == 1
    with any_store.session() as session:
        attached = session.scalars(select(Audit.target).where(Audit.action == "review.attach")).all()
    assert attached == [f"scan:{first.scan_id}"] * 2

    with any_store.session() as session:
        page = queue(session, Scope.scan(first.scan_id), settings=settings)
    assert page.total_items == 6 and page.total_groups == 4  # the series, two pictures, the text file
    by_size = sorted(page.groups, key=lambda g: -len(g.items))
    names = {Path(str(i.path)).name for i in by_size[0].items}
    assert names == {p.name for p in series}
    assert by_size[0].group_id == min(i.item_id for i in by_size[0].items)
    assert all(len(g.items) == 1 for g in by_size[1:])
    singles = {Path(str(g.items[0].path)).name for g in by_size[1:]}
    assert singles == {p.name for p in others} | {"notes.txt"}
    assert all(i.verdict == "unknown" and i.status == "open" for g in page.groups for i in g.items)


def test_attach_records_a_folder_scanned_elsewhere(
    any_store: Store, tmp_path: Path, settings: Settings
) -> None:
    ev = tmp_path / "evidence"
    distinct(ev, [31, 32, 33])
    with Store(str(tmp_path / "elsewhere.db")) as other:
        summary = scan(other, ev, tmp_path / "out")
    assert summary["verdicts"]["unknown"] == 3
    got = attach_folder(any_store, tmp_path / "out", case="case-7", settings=settings)
    assert got.recorded and got.items_created == 3
    again = attach_folder(any_store, tmp_path / "out", case="case-7", settings=settings)
    assert not again.recorded and again.scan_id == got.scan_id and again.sightings == 0
    with any_store.session() as session:
        scan_row = session.get(Scan, got.scan_id)
        assert scan_row is not None and scan_row.case_id is not None
        assert queue(session, Scope.case(scan_row.case_id)).total_items == 3


def test_scan_and_attach(any_store: Store, tmp_path: Path, settings: Settings) -> None:
    ev = tmp_path / "evidence"
    near_duplicates(ev, seed=41)
    got = scan_and_attach(any_store, [str(ev)], tmp_path / "out", settings=settings, workers=1)
    assert got.recorded and got.items_created == 3 and got.groups == 1
    assert (tmp_path / "out" / "summary.json").exists()
    shutil.rmtree(tmp_path / "out")  # attaching a recorded scan by id needs no folder
    again = attach_scan(any_store, int(got.scan_id or 0), settings=settings)
    assert (again.scan_id, again.sightings, again.items_created) == (got.scan_id, 0, 0)
    with pytest.raises(ReviewError, match="no scan 999"):
        attach_scan(any_store, 999)


def test_attach_refuses_what_is_not_a_finished_scan(tmp_store: Store, tmp_path: Path) -> None:
    def refused(folder: Path, words: str) -> None:
        with pytest.raises(ReviewError, match=words):
            attach_folder(tmp_store, folder)

    refused(tmp_path / "missing", "not a folder")
    empty = tmp_path / "empty"
    empty.mkdir()
    refused(empty, "no items.jsonl")
    (empty / "items.jsonl").write_text("")
    refused(empty, "no summary.json")
    (empty / "summary.json").write_text("{not json")
    refused(empty, "not a vigil scan summary")
    (empty / "summary.json").write_text(json.dumps({"hello": 1}))
    refused(empty, "no vigil_version")

    ev = tmp_path / "evidence"
    distinct(ev, [51])
    scan(tmp_store, ev, tmp_path / "good")
    bad = tmp_path / "bad"
    shutil.copytree(tmp_path / "good", bad)
    with open(bad / "items.jsonl", "a") as fh:
        fh.write('{"path": "x"}\n')
    refused(bad, r"items.jsonl:2: not a vigil scan item")
    (bad / "items.jsonl").write_text("garbage\n")
    refused(bad, "not a vigil scan journal")
    assert read_scan_folder(tmp_path / "good")["verdicts"]["unknown"] == 1
    assert count(tmp_store, ReviewItem) == 0


def test_components_and_keys() -> None:
    base = bytes(32)
    near = bytes([0xFF, 0xFF]) + bytes(30)  # 16 bits away
    far = bytes([0xFF] * 8) + bytes(24)  # 64 bits away
    chain = bytes([0xFF] * 5) + bytes(27)  # 40 from base, 24 from near, 24 from far
    assert components([5, 3, 9], [base, near, far], 31) == {5: 3, 3: 3, 9: 9}
    assert components([5, 3, 9, 7], [base, near, far, chain], 31) == {5: 3, 3: 3, 9: 3, 7: 3}
    assert components([], [], 31) == {}
    assert item_key({"md5": "AB", "sha256": "CD"}) == "sha256:cd"
    assert item_key({"pdq": "00" * 32}) == "pdq:" + "00" * 32
    assert item_key({"vpdq": "x" * 500}).startswith("vpdq:sha256-of-")  # type: ignore[union-attr]
    assert item_key({}) is None
