"""Apply a parsed hash set to the store in one transaction, in bulk.

Every record becomes (or joins) an entry, adds the hashes the entry lacks, and records an assessment from
its source unless that is exactly what the source last said about the entry — so importing a file twice adds
nothing the second time, while a source changing its grading (even back to an earlier one) is recorded. A
record whose hashes belong to two different entries, or that gives an entry a second, different value of a
signal it already has, fails the whole import with its line number. The caller owns the transaction: on any
error nothing is written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import ColumnElement, Connection, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from vigil.core.categories import KNOWN_GOOD
from vigil.core.clock import utcnow
from vigil.core.errors import ImportFormatError, StoreError
from vigil.core.records import HashRecord
from vigil.store.bulk import allocate_ids, insert_rows, lookup_signal_owners
from vigil.store.models import Assessment, Change, Entry, Series, Source
from vigil.store.models import Signal as SignalRow
from vigil.store.policy import Effective, Grading, effective

CHUNK = 900
RECORDS_PER_CHUNK = 50_000
# The tables behind the models, typed as Table for the bulk helpers.
ENTRY = cast(Table, Entry.__table__)
SIGNAL = cast(Table, SignalRow.__table__)
ASSESSMENT = cast(Table, Assessment.__table__)
CHANGE = cast(Table, Change.__table__)
ENTRY_COLUMNS = (
    "id",
    "category",
    "series_id",
    "victim_identified",
    "status",
    "disputed",
    "source_id",
    "size",
    "first_seen",
    "updated_at",
    "notes",
)
DEFAULT_TRUST = 50
KNOWN_GOOD_TRUST = 20


@dataclass(slots=True)
class ImportStats:
    records: int = 0
    entries_created: int = 0
    entries_updated: int = 0
    signals_added: int = 0
    assessments_added: int = 0
    unchanged: int = 0
    sources: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "records": self.records,
            "entries_created": self.entries_created,
            "entries_updated": self.entries_updated,
            "signals_added": self.signals_added,
            "assessments_added": self.assessments_added,
            "unchanged": self.unchanged,
            "sources": self.sources,
        }


# An entry in the making: ("e", id) for an existing entry, ("n", index) for one this import creates.
Key = tuple[str, int]
AssessKey = tuple[int, str | None, int | None, bool | None]  # source, category, series, victim


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
    for chunk in _chunks(sorted(names)):
        for sid, name in conn.execute(select(Series.id, Series.name).where(Series.name.in_(chunk))):
            ids[name] = int(sid)
    for name in sorted(names - ids.keys()):
        ids[name] = int(conn.execute(insert(Series).values(name=name).returning(Series.id)).scalar_one())
    return ids


@dataclass(slots=True)
class _Context:
    file: str
    source: str
    known_good: bool
    default_category: str | None
    now: datetime
    source_ids: dict[str, int] = field(default_factory=dict)
    trust: dict[int, int] = field(default_factory=dict)
    series_ids: dict[str, int] = field(default_factory=dict)


def import_records(
    session: Session,
    records: Iterable[HashRecord],
    *,
    file: str,
    source: str,
    known_good: bool = False,
    default_category: str | None = None,
) -> ImportStats:
    """Apply `records` as they are read, in chunks, inside the caller's transaction.

    A format reader raises ImportFormatError on a bad line and this function on a conflicting one; either
    way the caller's transaction rolls back and the store is unchanged. Later chunks see earlier ones'
    rows, so a file's repeated hashes still become one entry.
    """
    ctx = _Context(file, source, known_good, default_category, utcnow())
    total = ImportStats()
    chunk: list[HashRecord] = []
    analyzed = 0
    for rec in records:
        chunk.append(rec)
        if len(chunk) >= RECORDS_PER_CHUNK:
            _add(total, _import_chunk(session, chunk, ctx))
            chunk = []
            analyzed = _refresh_statistics(session, total, analyzed)
    if chunk or not total.records:
        _add(total, _import_chunk(session, chunk, ctx))
    _refresh_statistics(session, total, analyzed, final=True)
    total.sources = sorted(ctx.source_ids)
    return total


def _refresh_statistics(session: Session, total: ImportStats, analyzed: int, *, final: bool = False) -> int:
    """PostgreSQL plans from table statistics that a bulk COPY leaves stale (an empty table "has" 0 rows,
    so later look-ups would scan whole tables). Re-analyse whenever the rows written since the last time
    double, and at the end; returns the new mark."""
    written = total.entries_created + total.signals_added + total.assessments_added
    if session.bind is None or session.get_bind().dialect.name != "postgresql":
        return written
    if written and (written >= 2 * analyzed + 10_000 or (final and written > analyzed)):
        session.connection().exec_driver_sql("ANALYZE entry, signal, assessment, change")
        return written
    return analyzed


def _add(total: ImportStats, part: ImportStats) -> None:
    total.records += part.records
    total.entries_created += part.entries_created
    total.entries_updated += part.entries_updated
    total.signals_added += part.signals_added
    total.assessments_added += part.assessments_added
    total.unchanged += part.unchanged


def _import_chunk(session: Session, recs: list[HashRecord], ctx: _Context) -> ImportStats:
    stats = ImportStats(records=len(recs))
    conn = session.connection()
    file, source, known_good, default_category, now = (
        ctx.file,
        ctx.source,
        ctx.known_good,
        ctx.default_category,
        ctx.now,
    )
    kind = "known_good" if known_good else "agency"
    for name in sorted({r.source or source for r in recs} | {source}):
        if name not in ctx.source_ids:
            ctx.source_ids[name] = get_or_create_source(session, name, kind=kind)
            sid = ctx.source_ids[name]
            ctx.trust[sid] = int(conn.execute(select(Source.trust).where(Source.id == sid)).scalar_one())
    source_ids, trust = ctx.source_ids, ctx.trust
    wanted_series = {r.series for r in recs if r.series} - ctx.series_ids.keys()
    if wanted_series:
        ctx.series_ids.update(get_or_create_series(conn, wanted_series))
    series_ids = ctx.series_ids

    existing = _lookup_signals(conn, recs)
    existing_entries = sorted({eid for eid in existing.values()})
    entry_types = _signal_types(conn, existing_entries)  # entry id -> {type: value}

    owner: dict[tuple[str, bytes], Key] = {k: ("e", v) for k, v in existing.items()}
    new_types: dict[Key, dict[str, bytes]] = defaultdict(dict)
    for eid, types in entry_types.items():
        new_types[("e", eid)] = dict(types)
    new_entries: list[HashRecord] = []  # first record of each new entry
    new_signals: list[tuple[Key, str, bytes, int | None]] = []
    wanted: dict[Key, list[tuple[AssessKey, str | None, int]]] = defaultdict(list)

    for rec in recs:
        category = rec.category or default_category
        if known_good:
            if category not in (None, KNOWN_GOOD):
                raise ImportFormatError(file, rec.line, f"category {category} in a --known-good import")
            category = KNOWN_GOOD
        keys = {owner[(t, v)] for t, v in rec.hashes.items() if (t, v) in owner}
        if len(keys) > 1:
            ids = ", ".join(_describe(k) for k in sorted(keys))
            raise ImportFormatError(file, rec.line, f"the row's hashes belong to different entries ({ids})")
        if keys:
            key = keys.pop()
        else:
            key = ("n", len(new_entries))
            new_entries.append(rec)
        have = new_types[key]
        for sig, value in rec.hashes.items():
            if (sig, value) in owner:
                continue
            if sig in have and have[sig] != value:
                raise ImportFormatError(
                    file,
                    rec.line,
                    f"{_describe(key)} already has {sig} {have[sig].hex()}, the row gives {value.hex()}",
                )
            have[sig] = value
            owner[(sig, value)] = key
            new_signals.append((key, sig, value, rec.quality.get(sig)))
        src = source_ids[rec.source or source]
        akey: AssessKey = (
            src,
            category,
            series_ids.get(rec.series) if rec.series else None,
            rec.victim_identified,
        )
        wanted[key].append((akey, rec.notes, rec.line))

    # Existing assessments, for de-duplication and for the effective grading of touched entries.
    prior = _assessments(conn, existing_entries)
    to_add: list[tuple[Key, AssessKey, str | None, int]] = []
    for key, items in wanted.items():
        # A source repeating its latest grading adds nothing, nor does a row repeating one in the same file;
        # any other change (even back to an older grading) is a new assessment.
        latest: dict[int, AssessKey] = {}
        if key[0] == "e":
            for g_key, g in sorted(prior.get(key[1], []), key=lambda p: (p[1].created_at, p[1].order)):
                latest[g.source_id] = g_key
        seen: set[AssessKey] = set()
        for akey, notes, line in items:
            if akey in seen or latest.get(akey[0]) == akey:
                continue
            seen.add(akey)
            to_add.append((key, akey, notes, line))

    added_by_key: dict[Key, list[Grading]] = defaultdict(list)
    for key, akey, _notes, line in to_add:
        src, cat, ser, vic = akey
        added_by_key[key].append(Grading(trust[src], now, 1 << 40 | line, src, cat, ser, vic))

    # New entries: insert with their effective grading already computed.
    entry_ids: dict[Key, int] = {("e", eid): eid for eid in existing_entries}
    new_ids = allocate_ids(conn, ENTRY, len(new_entries))
    rows = []
    for i, (eid, rec) in enumerate(zip(new_ids, new_entries, strict=True)):
        entry_ids[("n", i)] = eid
        eff = effective(added_by_key[("n", i)])
        rows.append(
            (
                eid,
                eff.category,
                eff.series_id,
                eff.victim_identified,
                "active",
                eff.disputed,
                eff.source_id,
                rec.size,
                now,
                now,
                rec.notes,
            )
        )
    insert_rows(conn, ENTRY, ENTRY_COLUMNS, rows)
    stats.entries_created = len(new_entries)
    insert_rows(
        conn,
        SIGNAL,
        ("entry_id", "type", "value", "quality"),
        [(entry_ids[k], t, v, q) for k, t, v, q in new_signals],
    )
    stats.signals_added = len(new_signals)
    insert_rows(
        conn,
        ASSESSMENT,
        ("entry_id", "source_id", "category", "series_id", "victim_identified", "notes", "created_at"),
        [(entry_ids[key], *akey, notes, now) for key, akey, notes, _line in to_add],
    )
    stats.assessments_added = len(to_add)

    # Existing entries that gained an assessment or a signal: recompute, update, log the change.
    touched = {k for k, *_ in to_add if k[0] == "e"} | {k for k, *_ in new_signals if k[0] == "e"}
    changes = [(eid, "create", now) for eid in new_ids]
    updates = []
    for key in sorted(touched):
        eid = key[1]
        gradings = [g for _, g in prior.get(eid, [])] + added_by_key.get(key, [])
        updates.append({"b_id": eid} | _entry_row(effective(gradings), now))
        changes.append((eid, "update", now))
    if updates:
        stmt = (
            update(Entry)
            .where(Entry.id == bindparam("b_id"))
            .values({c: bindparam(c) for c in updates[0] if c != "b_id"})
        )
        conn.execute(stmt, updates)
    stats.entries_updated = len(updates)
    stats.unchanged = len({k for k in wanted if k[0] == "e"} - touched)
    insert_rows(conn, CHANGE, ("entry_id", "kind", "created_at"), changes)
    return stats


def _entry_row(eff: Effective, now: datetime) -> dict[str, object]:
    return {
        "category": eff.category,
        "series_id": eff.series_id,
        "victim_identified": eff.victim_identified,
        "disputed": eff.disputed,
        "source_id": eff.source_id,
        "updated_at": now,
    }


def _describe(key: Key) -> str:
    return f"entry {key[1]}" if key[0] == "e" else f"the entry of an earlier row (new #{key[1] + 1})"


def _chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _lookup_signals(conn: Connection, recs: list[HashRecord]) -> dict[tuple[str, bytes], int]:
    by_type: dict[str, set[bytes]] = defaultdict(set)
    for rec in recs:
        for sig, value in rec.hashes.items():
            by_type[sig].add(value)
    found: dict[tuple[str, bytes], int] = {}
    for sig, values in by_type.items():
        for value, eid in lookup_signal_owners(conn, sig, sorted(values)).items():
            found[(sig, value)] = eid
    return found


def _signal_types(conn: Connection, entry_ids: list[int]) -> dict[int, dict[str, bytes]]:
    types: dict[int, dict[str, bytes]] = defaultdict(dict)
    for chunk in _chunks(entry_ids):
        stmt = select(SignalRow.entry_id, SignalRow.type, SignalRow.value).where(
            SignalRow.entry_id.in_(chunk)
        )
        for eid, sig, value in conn.execute(stmt):
            types[int(eid)][sig] = bytes(value)
    return types


def _assessments(conn: Connection, entry_ids: list[int]) -> dict[int, list[tuple[AssessKey, Grading]]]:
    out: dict[int, list[tuple[AssessKey, Grading]]] = defaultdict(list)
    for chunk in _chunks(entry_ids):
        for eid, g in gradings(conn, Assessment.entry_id.in_(chunk)):
            akey: AssessKey = (g.source_id, g.category, g.series_id, g.victim_identified)
            out[eid].append((akey, g))
    return out


def recompute_entry(session: Session, entry_id: int, now: datetime) -> None:
    """Derive an entry's effective grading again from all its assessments, by the store's policy, as
    `import_records` does (for assessments written outside it, e.g. a reviewer's vote)."""
    found = [g for _eid, g in gradings(session, Assessment.entry_id == entry_id)]
    session.execute(update(Entry).where(Entry.id == entry_id).values(**_entry_row(effective(found), now)))


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
        insert_rows(
            session.connection(),
            CHANGE,
            ("entry_id", "kind", "created_at"),
            [(i, kind, now) for i in changed],
        )
    return changed
