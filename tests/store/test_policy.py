"""The effective-grading policy on its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vigil.store.policy import Grading, effective

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def g(source: int, category: str | None, minutes: int, trust: int = 50, series: int | None = None) -> Grading:
    return Grading(trust, T0 + timedelta(minutes=minutes), minutes, source, category, series, None)


def test_most_trusted_then_most_recent_wins() -> None:
    assert effective([g(1, "A", 0), g(2, "C", 5)]).category == "C"
    assert effective([g(1, "A", 0, trust=90), g(2, "C", 5)]).category == "A"
    assert effective([g(1, "A", 0, trust=90), g(2, "C", 5)]).source_id == 1


def test_disagreement_between_sources_is_disputed_but_self_regrade_is_not() -> None:
    assert effective([g(1, "A", 0), g(2, "C", 5)]).disputed
    assert not effective([g(1, "A", 0), g(1, "B", 5)]).disputed
    assert effective([g(1, "A", 0), g(1, "B", 5)]).category == "B"
    assert not effective([g(1, "A", 0), g(1, "B", 5), g(2, "B", 6)]).disputed
    assert effective([g(1, "A", 0), g(1, "B", 5), g(2, "A", 6)]).disputed


def test_fields_come_from_the_best_assessment_that_states_them() -> None:
    eff = effective([g(1, "A", 0, series=7), g(2, None, 5)])
    assert eff.category == "A" and eff.series_id == 7 and eff.source_id == 1
    assert effective([]).category is None
