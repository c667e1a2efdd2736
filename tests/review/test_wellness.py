"""Wellness: exposure per user per day, break prompts, the team view, settings; every reveal, view and
settings change is on the audit chain, which still verifies."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.review.conftest import add_user
from vigil.review import NotAllowed, ReviewError, wellness
from vigil.store import Store, audit
from vigil.store.models import Audit, User

DAY1, DAY2 = date(2026, 3, 2), date(2026, 3, 3)


def test_exposure_counters_and_break_prompts(any_store: Store) -> None:
    rev = add_user(any_store, "rev", break_after_reveals=3, break_after_minutes=2)
    other = add_user(any_store, "other")
    with any_store.transaction() as s:
        statuses = [wellness.reveal(s, rev, f"review_item:{i}", today=DAY1) for i in range(1, 4)]
    assert [st.due for st in statuses] == [False, False, True]
    assert statuses[-1].reason == "3 pictures revealed since your last break"
    with any_store.transaction() as s:
        wellness.view(s, rev, "review_item:1")
        after = wellness.take_break(s, rev, today=DAY1)
    assert not after.due and (after.reveals, after.breaks, after.reveals_since_break) == (3, 1, 0)
    with any_store.transaction() as s:
        beats = [wellness.heartbeat(s, rev, 50, today=DAY1) for _ in range(2)]
        assert not beats[-1].due and beats[-1].seconds == 100
        capped = wellness.heartbeat(s, rev, 10_000, today=DAY1)  # one heartbeat counts at most 2 minutes
    assert capped.seconds == 100 + wellness.MAX_HEARTBEAT_S and capped.due
    assert capped.reason == "3 minutes in the queue since your last break"
    with any_store.transaction() as s:
        wellness.reveal(s, rev, "review_item:9", today=DAY2)
        wellness.heartbeat(s, other, 30, today=DAY2)
        wellness.heartbeat(s, other, -5, today=DAY2)  # nothing
        fresh = wellness.break_status(s, rev, today=DAY2)
    assert (fresh.reveals, fresh.seconds, fresh.due) == (1, 0, False)
    with any_store.session() as s:
        team = [r.as_dict() for r in wellness.team_exposure(s)]
        assert team == [
            {"user": "other", "day": "2026-03-03", "reveals": 0, "seconds": 30, "minutes": 0.5, "breaks": 0},
            {"user": "rev", "day": "2026-03-03", "reveals": 1, "seconds": 0, "minutes": 0.0, "breaks": 0},
            {"user": "rev", "day": "2026-03-02", "reveals": 3, "seconds": 220, "minutes": 3.7, "breaks": 1},
        ]
        assert [r.user for r in wellness.team_exposure(s, since=DAY1, until=DAY1)] == ["rev"]
        actions = [(a.actor, a.action, a.target) for a in s.scalars(select(Audit).order_by(Audit.id))]
    reveals = [a for a in actions if a[1] == "review.reveal"]
    assert len(reveals) == 4 and reveals[0] == ("user:rev", "review.reveal", "review_item:1")
    assert ("user:rev", "review.view", "review_item:1") in actions
    assert not any(a[1] == "review.heartbeat" for a in actions)
    assert audit.verify(any_store).ok


def test_settings_are_validated_and_audited(any_store: Store) -> None:
    rev = add_user(any_store, "rev")
    peer = add_user(any_store, "peer")
    admin = add_user(any_store, "boss", "admin")
    assert wellness.get_settings(rev)["blur"] is True
    with any_store.transaction() as s:
        now = wellness.update_settings(s, rev, {"blur": "false", "break_after_reveals": "20"}, by=rev)
    assert now["blur"] is False and now["break_after_reveals"] == 20 and now["greyscale"] is True
    for changes, words in (
        ({"colour": True}, "unknown setting"),
        ({"blur": "maybe"}, "true or false"),
        ({"break_after_minutes": -1}, "between 0 and 1440"),
        ({"break_after_reveals": 2.5}, "whole number"),
        ({"break_after_reveals": True}, "whole number"),
    ):
        with pytest.raises(ReviewError, match=words), any_store.transaction() as s:
            wellness.update_settings(s, rev, changes, by=rev)
    with pytest.raises(NotAllowed), any_store.transaction() as s:
        wellness.update_settings(s, rev, {"greyscale": False}, by=peer)
    with any_store.transaction() as s:
        wellness.update_settings(s, rev, {"greyscale": False, "break_after_minutes": 0}, by=admin)
    with any_store.session() as s:
        row = s.scalar(select(User).where(User.name == "rev"))
        assert row is not None
        assert wellness.get_settings(row) == {
            "blur": False,
            "greyscale": False,
            "reveal_on_hover": False,
            "break_after_reveals": 20,
            "break_after_minutes": 0,
        }
        changes = [
            (a.actor, a.target, a.details)
            for a in s.scalars(select(Audit).where(Audit.action == "review.settings").order_by(Audit.id))
        ]
    assert changes == [
        ("user:rev", "user:rev", '{"changes":{"blur":false,"break_after_reveals":20}}'),
        ("user:boss", "user:rev", '{"changes":{"break_after_minutes":0,"greyscale":false}}'),
    ]
    assert audit.verify(any_store).ok
