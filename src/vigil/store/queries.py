"""Read queries over the store. None of these commit; the caller owns the session."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.core.records import ExportRecord
from vigil.store.entries import gradings
from vigil.store.models import Assessment, Change, Entry, Series, Source
from vigil.store.models import Signal as SignalRow
from vigil.store.policy import Effective, Grading, effective

EXPORT_CHUNK = 2000


def stats(session: Session) -> dict[str, object]:
    def count(model: type) -> int:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)

    by_category = {
        (cat or "ungraded"): int(n)
        for cat, n in session.execute(
            select(Entry.category, func.count()).where(Entry.status == "active").group_by(Entry.category)
        )
    }
    by_signal = {
        sig: int(n)
        for sig, n in session.execute(select(SignalRow.type, func.count()).group_by(SignalRow.type))
    }
    return {
        "entries": count(Entry),
        "signals": count(SignalRow),
        "assessments": count(Assessment),
        "sources": count(Source),
        "series": count(Series),
        "disputed": int(session.scalar(select(func.count()).where(Entry.disputed.is_(True))) or 0),
        "retracted": int(session.scalar(select(func.count()).where(Entry.status == "retracted")) or 0),
        "change_seq": int(session.scalar(select(func.max(Change.seq))) or 0),
        "categories": dict(sorted(by_category.items())),
        "signal_types": dict(sorted(by_signal.items())),
    }


def fingerprint(session: Session) -> str:
    """Identifies the store's content at this moment: schema-independent, cheap (counts and last change)."""
    s = stats(session)
    text = f"{s['entries']}:{s['signals']}:{s['assessments']}:{s['change_seq']}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class EntryInfo:
    """What a match reports about the entry it matched."""

    entry_id: int
    category: str | None
    series: str | None
    source: str | None
    status: str


def iter_export(
    session: Session,
    *,
    since: int | None = None,
    include_retracted: bool = False,
    include_untrusted: bool = False,
) -> Iterator[ExportRecord]:
    """Every entry (or those changed after change `since`) with its signals, in id order, streamed.

    Only trusted gradings are exported unless `include_untrusted`: an entry graded by reviewers whose
    votes have not reached consensus yet (assessments with ``trusted`` false, see vigil.review) is
    exported with the grading its trusted assessments give, and left out if it has none."""
    series = {int(i): n for i, n in session.execute(select(Series.id, Series.name))}
    sources = {int(i): n for i, n in session.execute(select(Source.id, Source.name))}
    stmt = select(Entry).order_by(Entry.id)
    if not include_retracted:
        stmt = stmt.where(Entry.status == "active")
    if since is not None:
        stmt = stmt.where(Entry.id.in_(select(Change.entry_id).where(Change.seq > since)))
    last = 0
    while True:
        entries = session.execute(stmt.where(Entry.id > last).limit(EXPORT_CHUNK)).scalars().all()
        if not entries:
            return
        last = entries[-1].id
        sigs: dict[int, dict[str, bytes]] = defaultdict(dict)
        quals: dict[int, dict[str, int]] = defaultdict(dict)
        ids = [e.id for e in entries]
        for eid, sig, value, q in session.execute(
            select(SignalRow.entry_id, SignalRow.type, SignalRow.value, SignalRow.quality).where(
                SignalRow.entry_id.in_(ids)
            )
        ):
            sigs[eid][sig] = bytes(value)
            if q is not None:
                quals[eid][sig] = int(q)
        trusted = {} if include_untrusted else _trusted_gradings(session, ids)
        for e in entries:
            eff = trusted.get(e.id, _AS_STORED)
            if eff is None:
                continue  # graded only by reviewers without consensus yet
            if eff is _AS_STORED:  # (the entry object is only read: the session must not flush it)
                eff = Effective(e.category, e.series_id, e.victim_identified, e.disputed, e.source_id)
            yield ExportRecord(
                entry_id=e.id,
                hashes=sigs[e.id],
                quality=quals[e.id],
                category=eff.category,
                series=series.get(eff.series_id) if eff.series_id else None,
                victim_identified=eff.victim_identified,
                source=sources.get(eff.source_id) if eff.source_id else None,
                notes=e.notes,
                size=e.size,
                media_type=e.media_type,
                status=e.status,
            )
        session.expunge_all()


_AS_STORED = Effective(None, None, False, False, None)  # marker: export the entry's stored grading


def _trusted_gradings(session: Session, ids: list[int]) -> dict[int, Effective | None]:
    """For the entries among `ids` that have an untrusted assessment: their grading from their trusted
    assessments alone (the store's policy), or None when they have none."""
    untrusted = sorted(
        {
            int(e)
            for (e,) in session.execute(
                select(Assessment.entry_id)
                .where(Assessment.entry_id.in_(ids), Assessment.trusted.is_(False))
                .distinct()
            )
        }
    )
    if not untrusted:
        return {}
    trusted: dict[int, list[Grading]] = {e: [] for e in untrusted}
    for eid, grading in gradings(session, Assessment.entry_id.in_(untrusted), Assessment.trusted.is_(True)):
        trusted[eid].append(grading)
    return {eid: effective(g) if g else None for eid, g in trusted.items()}


def iter_signals(session: Session, signal_type: str) -> Iterator[tuple[int, bytes, int | None]]:
    """(entry id, value, quality) of every stored value of one signal type, streamed."""
    stmt = select(SignalRow.entry_id, SignalRow.value, SignalRow.quality).where(SignalRow.type == signal_type)
    for eid, value, q in session.execute(stmt.execution_options(yield_per=10000)):
        yield int(eid), bytes(value), q
