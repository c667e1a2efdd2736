"""Grading: consensus, arbitration, bulk group grades, grade once, and what a grade writes to the store."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.review.conftest import add_user, distinct, near_duplicates, scan
from vigil.config import Settings
from vigil.review import (
    ARBITRATION,
    OPEN,
    TRUSTED,
    Grade,
    NotAllowed,
    ReviewError,
    Scope,
    arbitrate,
    arbitration_queue,
    attach_folder,
    cast_vote,
    cast_votes,
    grade_group,
    item_detail,
    queue,
    sync_index,
)
from vigil.scan import journal
from vigil.store import Store, audit
from vigil.store.models import Assessment, Audit, Change, Entry, ReviewItem, ReviewVote, Source, User
from vigil.store.models import Signal as SignalRow


def one_item(store: Store, tmp_path: Path, settings: Settings, seed: int = 61) -> int:
    ev = tmp_path / f"ev-{seed}"
    distinct(ev, [seed])
    scan(store, ev, tmp_path / f"out-{seed}")
    assert attach_folder(store, tmp_path / f"out-{seed}", settings=settings).items_created == 1
    with store.session() as s:
        return int(s.scalars(select(ReviewItem.id).order_by(ReviewItem.id.desc())).first() or 0)


def test_three_votes_two_agree_one_disagrees_then_arbitration(
    any_store: Store, tmp_path: Path, settings: Settings
) -> None:
    item_id = one_item(any_store, tmp_path, settings)
    r1, r2, r3 = (add_user(any_store, n) for n in ("rev1", "rev2", "rev3"))
    boss = add_user(any_store, "boss", "admin")
    analyst = add_user(any_store, "ana", "analyst")

    with any_store.transaction() as s:
        first = cast_vote(s, item_id, r1, Grade("b", series="harbour", notes="synthetic note"), settings)
    assert (first.status, first.votes, first.needed) == (OPEN, 1, 3) and first.entry_id is not None
    with pytest.raises(ReviewError, match=r"voted on review item \d+ already"), any_store.transaction() as s:
        cast_vote(s, item_id, r1, Grade("B"), settings)
    with pytest.raises(NotAllowed, match="analyst"), any_store.transaction() as s:
        cast_vote(s, item_id, analyst, Grade("B"), settings)
    with any_store.transaction() as s:
        assert cast_vote(s, item_id, r2, Grade("B", series="harbour"), settings).status == OPEN
    with any_store.transaction() as s:
        third = cast_vote(s, item_id, r3, Grade("C"), settings)
    assert third.status == ARBITRATION and third.votes == 3

    with any_store.session() as s:
        entry = s.get(Entry, first.entry_id)
        assert entry is not None and entry.disputed and entry.media_type == "image/png"
        rows = s.scalars(
            select(Assessment).where(Assessment.entry_id == first.entry_id).order_by(Assessment.id)
        )
        got = [(a.user_name, a.category, a.trusted) for a in rows]
        assert got == [("rev1", "B", False), ("rev2", "B", False), ("rev3", "C", False)]
        source = s.scalar(select(Source).join(Assessment).where(Assessment.entry_id == first.entry_id))
        assert source is not None and (source.name, source.kind) == ("review", "reviewer")
        waiting, total = arbitration_queue(s)
        assert total == 1 and waiting[0].item.item_id == item_id
        assert [(v.user_name, v.category) for v in waiting[0].votes] == [
            ("rev1", "B"),
            ("rev2", "B"),
            ("rev3", "C"),
        ]
        assert queue(s, Scope.everything()).total_items == 0  # not open for votes any more

    with pytest.raises(NotAllowed, match="admin"), any_store.transaction() as s:
        arbitrate(s, item_id, r1, Grade("B"), settings)
    with pytest.raises(ReviewError, match="not open"), any_store.transaction() as s:
        cast_vote(s, item_id, boss, Grade("B"), settings)
    with any_store.transaction() as s:
        done = arbitrate(s, item_id, boss, Grade("B", series="harbour"), settings)
    assert done.status == TRUSTED and done.entry_id == first.entry_id
    with pytest.raises(ReviewError, match="not in arbitration"), any_store.transaction() as s:
        arbitrate(s, item_id, boss, Grade("A"), settings)

    with any_store.session() as s:
        entry = s.get(Entry, first.entry_id)
        assert entry is not None and entry.category == "B" and not entry.disputed
        item = s.get(ReviewItem, item_id)
        assert item is not None and (item.status, item.category) == (TRUSTED, "B") and item.trusted_at
        last = s.scalars(select(Assessment).order_by(Assessment.id.desc())).first()
        assert last is not None and (last.user_name, last.category, last.trusted) == ("boss", "B", True)
        kinds = [v.kind for v in s.scalars(select(ReviewVote).order_by(ReviewVote.id))]
        assert kinds == ["vote", "vote", "vote", "arbitration"]
        actions = [a.action for a in s.scalars(select(Audit).order_by(Audit.id))]
        assert actions.count("review.grade") == 3 and actions.count("review.arbitrate") == 1
    assert audit.verify(any_store).ok


def test_agreeing_votes_make_a_trusted_grade(any_store: Store, tmp_path: Path, settings: Settings) -> None:
    item_id = one_item(any_store, tmp_path, settings)
    users = [add_user(any_store, f"r{i}") for i in range(3)]
    outcomes = []
    for user in users:
        with any_store.transaction() as s:
            outcomes.append(cast_vote(s, item_id, user, Grade("A", victim_identified=True), settings))
    assert [o.status for o in outcomes] == [OPEN, OPEN, TRUSTED]
    with any_store.session() as s:
        rows = s.scalars(select(Assessment).order_by(Assessment.id)).all()
        assert [(a.user_name, a.trusted) for a in rows] == [("r0", False), ("r1", False), ("r2", True)]
        entry = s.get(Entry, outcomes[0].entry_id)
        assert entry is not None and (entry.category, entry.victim_identified, entry.disputed) == (
            "A",
            True,
            False,
        )
        # One entry, created once; every grade logged a change (deltas and the index follow).
        assert len(s.scalars(select(Entry)).all()) == 1
        kinds = [c.kind for c in s.scalars(select(Change).order_by(Change.seq))]
        assert kinds[0] == "create" and len(kinds) == 3
        signal_types = set(s.scalars(select(SignalRow.type)))
        assert signal_types == {"md5", "sha1", "sha256", "pdq"}


def test_bulk_grade_of_a_group(any_store: Store, tmp_path: Path) -> None:
    settings = Settings(review_votes=1)
    ev = tmp_path / "ev"
    near_duplicates(ev, seed=71)
    distinct(ev, [72])
    summary = scan(any_store, ev, tmp_path / "out")
    attach_folder(any_store, tmp_path / "out", settings=settings)
    reviewer = add_user(any_store, "rev")
    with any_store.session() as s:
        page = queue(s, Scope.scan(summary["scan_id"]), user=reviewer)
    series = next(g for g in page.groups if len(g.items) == 3)
    with any_store.transaction() as s:
        outcomes = grade_group(
            s, Scope.scan(summary["scan_id"]), series.group_id, reviewer, Grade("C", series="S-1"), settings
        )
    sync_index(any_store)
    assert [o.status for o in outcomes] == [TRUSTED] * 3 and not any(o.skipped for o in outcomes)
    assert len({o.entry_id for o in outcomes}) == 3  # three files, three entries (their PDQs differ)
    with any_store.session() as s:
        left = queue(s, Scope.scan(summary["scan_id"]), user=reviewer)
        assert left.total_items == 1 and left.total_groups == 1
        assert {e.category for e in s.scalars(select(Entry))} == {"C"}
        with pytest.raises(ReviewError, match="no open items"):
            grade_group(s, Scope.scan(summary["scan_id"]), series.group_id, reviewer, Grade("C"), settings)
    # In bulk, items that cannot take the vote are skipped with the reason, the others graded.
    with any_store.transaction() as s:
        ids = [series.items[0].item_id, left.groups[0].items[0].item_id, 999_999]
        mixed = cast_votes(s, ids, reviewer, Grade("N"), settings)
    by_id = {o.item_id: o for o in mixed}
    assert by_id[series.items[0].item_id].skipped and "trusted" in str(by_id[series.items[0].item_id].skipped)
    assert by_id[999_999].skipped == "no review item 999999"
    assert by_id[left.groups[0].items[0].item_id].status == TRUSTED


def test_grade_then_rescan_finds_the_picture_known(any_store: Store, tmp_path: Path) -> None:
    settings = Settings(review_votes=2)
    ev = tmp_path / "ev"
    distinct(ev, [81, 82])
    first = scan(any_store, ev, tmp_path / "out1")
    assert first["verdicts"]["unknown"] == 2
    attach_folder(any_store, tmp_path / "out1", settings=settings)
    reviewer = add_user(any_store, "rev")
    with any_store.session() as s:
        page = queue(s, Scope.scan(first["scan_id"]), user=reviewer)
    graded = next(i for g in page.groups for i in g.items if i.path and i.path.endswith("noise-81.png"))
    with any_store.transaction() as s:
        cast_vote(s, graded.item_id, reviewer, Grade("X", series="orchard"), settings)  # one vote of two
    sync_index(any_store)
    second = scan(any_store, ev, tmp_path / "out2")
    records = {Path(r.path).name: r.as_json() for r in journal.read(tmp_path / "out2" / "items.jsonl")}
    assert records["noise-81.png"]["verdict"] == "known"
    best = records["noise-81.png"]["matches"][0]
    assert (best["category"], best["series"], best["source"]) == ("X", "orchard", "review")
    assert records["noise-82.png"]["verdict"] == "unknown"
    assert second["verdicts"]["known"] == 1
    # Attaching the new scan: the known picture is not queued again, the other is the same item as before.
    again = attach_folder(any_store, tmp_path / "out2", settings=settings)
    assert again.items_created == 0 and again.sightings == 1


def test_same_image_in_two_scans_is_one_item_graded_once(any_store: Store, tmp_path: Path) -> None:
    settings = Settings(review_votes=2)
    ev1, ev2 = tmp_path / "ev1", tmp_path / "ev2"
    shared = distinct(ev1, [91])[0]
    distinct(ev2, [92])
    (ev2 / "copy-of-91.png").write_bytes(shared.read_bytes())
    s1 = scan(any_store, ev1, tmp_path / "out1")
    s2 = scan(any_store, ev2, tmp_path / "out2")
    a1 = attach_folder(any_store, tmp_path / "out1", settings=settings)
    a2 = attach_folder(any_store, tmp_path / "out2", settings=settings)
    assert (a1.items_created, a2.items_created, a2.sightings) == (1, 1, 2)
    rev1, rev2 = add_user(any_store, "rev1"), add_user(any_store, "rev2")
    with any_store.session() as s:
        in1 = queue(s, Scope.scan(s1["scan_id"]), user=rev1).groups[0].items[0]
        in2 = {
            i.path.rsplit("/", 1)[-1]: i
            for g in queue(s, Scope.scan(s2["scan_id"])).groups
            for i in g.items
            if i.path
        }
        assert in2["copy-of-91.png"].item_id == in1.item_id
        assert in2["copy-of-91.png"].path.endswith("ev2/copy-of-91.png")  # the scan's own sighting
    with any_store.transaction() as s:
        cast_vote(s, in1.item_id, rev1, Grade("P"), settings)
    with any_store.session() as s:
        # rev1 has graded it: gone from rev1's queue of either scan; still there for rev2.
        assert [
            i.item_id for g in queue(s, Scope.scan(s2["scan_id"]), user=rev1).groups for i in g.items
        ] == [in2["noise-92.png"].item_id]
        assert in1.item_id in {
            i.item_id for g in queue(s, Scope.scan(s2["scan_id"]), user=rev2).groups for i in g.items
        }
    with pytest.raises(ReviewError, match="already"), any_store.transaction() as s:
        cast_vote(s, in1.item_id, rev1, Grade("P"), settings)
    with any_store.transaction() as s:
        assert cast_vote(s, in1.item_id, rev2, Grade("P"), settings).status == TRUSTED
    with any_store.session() as s:
        assert queue(s, Scope.everything()).total_items == 1  # only noise-92 is left
        detail = item_detail(s, in1.item_id)
        assert detail is not None and len(detail.sightings) == 2 and detail.item.category == "P"
        assert len(s.scalars(select(Entry)).all()) == 1


def test_grade_validation() -> None:
    with pytest.raises(ReviewError, match="unknown category"):
        Grade("Z")
    with pytest.raises(ReviewError, match="series"):
        Grade("A", series="s" * 201)
    assert Grade(" b ", series="  ", notes=" ").as_dict() == {
        "category": "B",
        "series": None,
        "victim_identified": False,
        "notes": False,
    }


def test_similar_items_come_first_with_what_they_are_near(any_store: Store, tmp_path: Path) -> None:
    settings = Settings(review_votes=1)
    first, later = tmp_path / "first", tmp_path / "later"
    a, b, c = near_duplicates(tmp_path / "pictures", seed=111)
    first.mkdir()
    a.rename(first / a.name)
    later.mkdir()
    b.rename(later / b.name)
    c.rename(later / c.name)
    distinct(later, [112])
    s1 = scan(any_store, first, tmp_path / "out1")
    attach_folder(any_store, tmp_path / "out1", settings=settings)
    reviewer = add_user(any_store, "rev")
    with any_store.session() as s:
        only = queue(s, Scope.scan(s1["scan_id"])).groups[0].items[0]
    with any_store.transaction() as s:
        entry_id = cast_vote(s, only.item_id, reviewer, Grade("B", series="S-2"), settings).entry_id
    sync_index(any_store)
    s2 = scan(any_store, later, tmp_path / "out2")
    assert s2["verdicts"]["similar"] == 2 and s2["verdicts"]["unknown"] == 1
    attach_folder(any_store, tmp_path / "out2", settings=settings)
    with any_store.session() as s:
        page = queue(s, Scope.scan(s2["scan_id"]), per_page=1)
        assert (page.total_groups, page.pages, page.total_items) == (2, 2, 3)
        top = page.groups[0]
        assert top.verdict == "similar" and len(top.items) == 2
        assert all(
            i.matches[0]["entry_id"] == entry_id and i.matches[0]["category"] == "B" for i in top.items
        )
        rest = queue(s, Scope.scan(s2["scan_id"]), per_page=1, page=2).groups[0]
        assert rest.verdict == "unknown" and rest.items[0].matches == []


def test_concurrent_votes_on_one_item_are_serialised(any_store: Store, tmp_path: Path) -> None:
    settings = Settings(review_votes=3)
    item_id = one_item(any_store, tmp_path, settings)
    users = [add_user(any_store, f"r{i}") for i in range(5)]
    results: list[object] = []

    def vote(user: User) -> None:
        try:
            with any_store.transaction() as s:
                results.append(cast_vote(s, item_id, user, Grade("A"), settings).status)
        except ReviewError as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=vote, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(map(str, results)) == sorted(
        [OPEN, OPEN, TRUSTED] + [f"review item {item_id} is trusted, not open for votes"] * 2
    )
    with any_store.session() as s:
        rows = s.scalars(select(Assessment).order_by(Assessment.id)).all()
        assert [a.trusted for a in rows] == [False, False, True]
    assert audit.verify(any_store).ok
