"""A grade written to the store: the item's entry (created through `vigil.store.ingest` with its signals
and a change row, so deltas and the PDQ index follow), and one assessment from the review source that
carries who graded, how, and whether the grade is trusted. Used by `vigil.review.grading`; nothing here
commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.orm import Session

from vigil import signals
from vigil.core.records import HashRecord
from vigil.review.base import REVIEW_SOURCE, Grade, ReviewError, review_source_id
from vigil.store.bulk import lookup_signal_owners
from vigil.store.entries import get_or_create_series, recompute_entry
from vigil.store.ingest import import_records
from vigil.store.models import Assessment, Change, Entry, ReviewItem
from vigil.store.models import Signal as SignalRow

# Which hash decides the entry an item joins, strongest first.
ENTRY_KEY_ORDER = ("sha256", "sha1", "md5")


def record_grade(
    session: Session, item: ReviewItem, grade: Grade, user_name: str, *, trusted: bool, now: datetime
) -> tuple[int, int]:
    """Write one grade as an assessment from the review source (creating the item's entry and signals
    if new, through `import_records`); returns (entry id, assessment id)."""
    session.flush()  # the raw writes below go through the session's connection
    source_id = review_source_id(session)
    conn = session.connection()
    hashes, quality = _entry_hashes(conn, item)
    before = int(session.scalar(select(func.max(Assessment.id))) or 0)
    record = HashRecord(
        line=1,
        hashes=hashes,
        quality=quality,
        category=grade.category,
        series=grade.series,
        victim_identified=grade.victim_identified,
        source=REVIEW_SOURCE,
        size=item.size,
    )
    stats = import_records(session, [record], file=f"review item {item.id}", source=REVIEW_SOURCE)
    name, value = next(iter(hashes.items()))
    entry_id = lookup_signal_owners(conn, name, [value])[value]
    if stats.entries_created and item.media_type:
        session.execute(update(Entry).where(Entry.id == entry_id).values(media_type=item.media_type))
    stamp = {"user_name": user_name, "notes": grade.notes, "trusted": trusted}
    if stats.assessments_added:
        # import_records has just written the assessment (nobody else can see it yet): add who and how.
        assessment_id = session.execute(
            select(func.max(Assessment.id)).where(
                Assessment.id > before, Assessment.entry_id == entry_id, Assessment.source_id == source_id
            )
        ).scalar_one()
        session.execute(update(Assessment).where(Assessment.id == assessment_id).values(**stamp))
        return entry_id, assessment_id
    # The review source said exactly this last (another reviewer agreeing): import_records adds nothing,
    # but every grade is its own assessment.
    series_id = None
    if grade.series is not None:
        series_id = get_or_create_series(conn, {grade.series})[grade.series]
    assessment_id = int(
        session.execute(
            insert(Assessment)
            .values(
                entry_id=entry_id,
                source_id=source_id,
                category=grade.category,
                series_id=series_id,
                victim_identified=grade.victim_identified,
                created_at=now,
                **stamp,
            )
            .returning(Assessment.id)
        ).scalar_one()
    )
    session.execute(insert(Change).values(entry_id=entry_id, kind="update", created_at=now))
    recompute_entry(session, entry_id, now)  # the store's policy, as import_records applies it
    return entry_id, assessment_id


def _entry_hashes(conn: Connection, item: ReviewItem) -> tuple[dict[str, bytes], dict[str, int]]:
    """The item's hashes that can go on its entry without contradicting the store: the entry is the one
    its strongest hash (or its earlier grade) already belongs to, else a new one; a value owned by another
    entry, or a second value of a signal the entry has, is left out. If only a perceptual hash ties the
    item to an entry whose file hashes differ (another encoding of a similar picture), the item gets an
    entry of its own instead."""
    parsed: dict[str, bytes] = {}
    for name, text in (item.hashes or {}).items():
        try:
            parsed[name] = signals.get(name).parse(str(text).lower())
        except ValueError:
            continue  # a signal this vigil does not know (a platform's own): kept on the item only
    if not parsed:
        raise ReviewError(f"review item {item.id} has no hashes vigil can store")
    owners = {name: lookup_signal_owners(conn, name, [v]).get(v) for name, v in parsed.items()}
    order = [n for n in ENTRY_KEY_ORDER if n in parsed] + sorted(
        n for n in parsed if n not in ENTRY_KEY_ORDER
    )
    target = item.entry_id
    if target is None or target not in owners.values():
        target = next((owners[n] for n in order if owners[n] is not None), None)
    has: set[str] = set()
    if target is not None:
        has = set(conn.execute(select(SignalRow.type).where(SignalRow.entry_id == target)).scalars())
    kept = {n: v for n, v in parsed.items() if owners[n] == target or (owners[n] is None and n not in has)}
    exact_dropped = any(signals.get(n).exact and n not in kept for n in parsed)
    if (
        target is not None
        and exact_dropped
        and not any(signals.get(n).exact and owners[n] == target for n in parsed)
    ):
        kept = {n: v for n, v in parsed.items() if owners[n] is None}
    if not kept:
        raise ReviewError(f"review item {item.id}: its hashes belong to different entries already")
    quality = {n: int(q) for n, q in (item.quality or {}).items() if n in kept and q is not None}
    return kept, quality
