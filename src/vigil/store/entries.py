"""Entries one by one, and the names they point to: sources and series looked up or created by name, an
entry's effective grading derived again from its assessments, entries retracted and restored.

`vigil.store.ingest` builds on these for bulk imports; review grading and signed deltas use them
directly. Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import ColumnElement, Connection, Table, insert, select, update
from sqlalchemy.orm import Session

from vigil.core.clock import utcnow
from vigil.core.errors import StoreError
from vigil.store.bulk import insert_rows
from vigil.store.models import Assessment, Change, Entry, Series, Source
from vigil.store.policy import Effective, Grading, effective

CHUNK = 900  # ids per IN (...) list
DEFAULT_TRUST = 50
KNOWN_GOOD_TRUST = 20
CHANGE = cast(Table, Change.__table__)  # typed as Table for the bulk helpers
CHANGE_COLUMNS = ("entry_id", "kind", "created_at")


def chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def get_or_create_source(
    session: Session, name: str, *, kind: str = "agency", trust: int | None = None
) -> int:
    conn = session.connection()
    row = conn.execute(select(Source.id).where(Source.name == name)).scalar_one_or_none()
    if row is not None:
        return int(row)
    if trust is None:
        trust = KNOWN_GOOD_TRUST if kind == "known_good" else DEFAULT_TRUST
    result = conn.execute(
        insert(Source).values(name=name, kind=kind, trust=trust, created_at=utcnow()).returning(Source.id)
    )
    return int(result.scalar_one())


def get_or_create_series(conn: Connection, names: set[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in chunks(sorted(names)):
        for sid, name in conn.execute(select(Series.id, Series.name).where(Series.name.in_(chunk))):
            ids[name] = int(sid)
    for name in sorted(names - ids.keys()):
        ids[name] = int(conn.execute(insert(Series).values(name=name).returning(Series.id)).scalar_one())
    return ids


def entry_row(eff: Effective, now: datetime) -> dict[str, object]:
    """The entry columns an effective grading sets (as of `now`)."""
    return {
        "category": eff.category,
        "series_id": eff.series_id,
        "victim_identified": eff.victim_identified,
        "disputed": eff.disputed,
        "source_id": eff.source_id,
        "updated_at": now,
    }


def recompute_entry(session: Session, entry_id: int, now: datetime) -> None:
    """Derive an entry's effective grading again from all its assessments, by the store's policy, as
    `import_records` does (for assessments written outside it, e.g. a reviewer's vote)."""
    found = [g for _eid, g in gradings(session, Assessment.entry_id == entry_id)]
    session.execute(update(Entry).where(Entry.id == entry_id).values(**entry_row(effective(found), now)))


def gradings(conn: Connection | Session, *where: ColumnElement[bool]) -> Iterator[tuple[int, Grading]]:
    """(entry id, what the policy needs of it) for every assessment matching `where`."""
    stmt = (
        select(
            Assessment.entry_id,
            Assessment.id,
            Assessment.source_id,
            Assessment.category,
            Assessment.series_id,
            Assessment.victim_identified,
            Assessment.created_at,
            Source.trust,
        )
        .join(Source, Source.id == Assessment.source_id)
        .where(*where)
    )
    for eid, aid, src, cat, ser, vic, created, trust in conn.execute(stmt):
        when = created if created.tzinfo else created.replace(tzinfo=UTC)
        yield int(eid), Grading(int(trust), when, int(aid), int(src), cat, ser, vic)


def set_status(session: Session, entry_ids: Iterable[int], status: str) -> list[int]:
    """Retract entries (status "retracted") or restore them ("active"); the change log records each one
    whose status changed, so exports, deltas and the perceptual index follow. Returns those ids."""
    if status not in ("active", "retracted"):
        raise ValueError(f"unknown entry status {status!r}")
    wanted = sorted(set(entry_ids))
    found = {
        int(i): s for i, s in session.execute(select(Entry.id, Entry.status).where(Entry.id.in_(wanted)))
    }
    missing = [i for i in wanted if i not in found]
    if missing:
        raise StoreError(f"no entry with id {', '.join(map(str, missing[:5]))}")
    changed = [i for i in wanted if found[i] != status]
    if changed:
        now = utcnow()
        session.execute(update(Entry).where(Entry.id.in_(changed)).values(status=status, updated_at=now))
        kind = "retract" if status == "retracted" else "restore"
        insert_rows(session.connection(), CHANGE, CHANGE_COLUMNS, [(i, kind, now) for i in changed])
    return changed
