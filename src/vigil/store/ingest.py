"""Apply a parsed hash set to the store in one transaction, in bulk.

Every record becomes (or joins) an entry, adds the hashes the entry lacks, and records an assessment from
its source unless that is exactly what the source last said about the entry — so importing a file twice adds
nothing the second time, while a source changing its grading (even back to an earlier one) is recorded. A
record whose hashes belong to two different entries, or that gives an entry a second, different value of a
signal it already has, fails the whole import with its line number. The caller owns the transaction: on any
error nothing is written.

Records are applied in chunks of `RECORDS_PER_CHUNK`, each in the same phases: the names it uses (sources,
series); each record matched to its entry (an existing one its hashes belong to, else a new one); the
assessments that say something new; the bulk writes of new entries, signals and assessments; last, the
existing entries it touched, graded again, and a change row for every entry created or updated.

The store's per-entry operations (`get_or_create_source`, `get_or_create_series`, `gradings`,
`recompute_entry`, `set_status`) live in `vigil.store.entries`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.orm import Session

from vigil.core.categories import KNOWN_GOOD
from vigil.core.clock import utcnow
from vigil.core.errors import ImportFormatError
from vigil.core.records import AsDict, HashRecord
from vigil.store.bulk import allocate_ids, insert_rows, lookup_signal_owners
from vigil.store.entries import (
    CHANGE,
    CHANGE_COLUMNS,
    chunks,
    entry_row,
    get_or_create_series,
    get_or_create_source,
    gradings,
)
from vigil.store.models import Assessment, Entry, Source
from vigil.store.models import Signal as SignalRow
from vigil.store.policy import Grading, effective

RECORDS_PER_CHUNK = 50_000
# The tables behind the models, typed as Table for the bulk helpers.
ENTRY = cast(Table, Entry.__table__)
SIGNAL = cast(Table, SignalRow.__table__)
ASSESSMENT = cast(Table, Assessment.__table__)
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
SIGNAL_COLUMNS = ("entry_id", "type", "value", "quality")
ASSESSMENT_COLUMNS = (
    "entry_id",
    "source_id",
    "category",
    "series_id",
    "victim_identified",
    "notes",
    "created_at",
)


@dataclass(slots=True)
class ImportStats(AsDict):
    records: int = 0
    entries_created: int = 0
    entries_updated: int = 0
    signals_added: int = 0
    assessments_added: int = 0
    unchanged: int = 0
    sources: list[str] = field(default_factory=list)

    def add(self, part: ImportStats) -> None:
        """Count a chunk's work in (its sources are the import's, set at the end)."""
        self.records += part.records
        self.entries_created += part.entries_created
        self.entries_updated += part.entries_updated
        self.signals_added += part.signals_added
        self.assessments_added += part.assessments_added
        self.unchanged += part.unchanged


# An entry in the making: ("e", id) for an existing entry, ("n", index) for one this import creates.
Key = tuple[str, int]
AssessKey = tuple[int, str | None, int | None, bool | None]  # source, category, series, victim
Wanted = tuple[AssessKey, str | None, int]  # an assessment a record asks for: (key, notes, line)
NewAssessment = tuple[Key, AssessKey, str | None, int]  # one to write: (entry, key, notes, line)


@dataclass(slots=True)
class _Context:
    """What every chunk of one import shares: the file, its options, and the names resolved so far."""

    file: str
    source: str
    known_good: bool
    default_category: str | None
    now: datetime
    source_ids: dict[str, int] = field(default_factory=dict)
    trust: dict[int, int] = field(default_factory=dict)
    series_ids: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class _Match:
    """A chunk's records matched to entries: which exist, which are new, what each record adds."""

    existing: list[int]  # ids of the existing entries the chunk's hashes belong to
    new_entries: list[HashRecord] = field(default_factory=list)  # first record of each new entry
    new_signals: list[tuple[Key, str, bytes, int | None]] = field(default_factory=list)
    wanted: dict[Key, list[Wanted]] = field(default_factory=lambda: defaultdict(list))


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
            total.add(_import_chunk(session, chunk, ctx))
            chunk = []
            analyzed = _refresh_statistics(session, total, analyzed)
    if chunk or not total.records:
        total.add(_import_chunk(session, chunk, ctx))
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


def _import_chunk(session: Session, recs: list[HashRecord], ctx: _Context) -> ImportStats:
    conn = session.connection()
    _resolve_names(session, recs, ctx)
    found = _match(conn, recs, ctx)
    prior = _assessments(conn, found.existing)
    to_add = _new_assessments(found.wanted, prior)
    added: dict[Key, list[Grading]] = defaultdict(list)
    for key, (src, cat, ser, vic), _notes, line in to_add:
        added[key].append(Grading(ctx.trust[src], ctx.now, 1 << 40 | line, src, cat, ser, vic))
    entry_ids = _write_new(conn, found, to_add, added, ctx.now)
    touched = {k for k, *_ in to_add if k[0] == "e"} | {k for k, *_ in found.new_signals if k[0] == "e"}
    updated = _regrade(conn, touched, prior, added, entry_ids, ctx.now)
    return ImportStats(
        records=len(recs),
        entries_created=len(found.new_entries),
        entries_updated=updated,
        signals_added=len(found.new_signals),
        assessments_added=len(to_add),
        unchanged=len({k for k in found.wanted if k[0] == "e"} - touched),
    )


def _resolve_names(session: Session, recs: list[HashRecord], ctx: _Context) -> None:
    """Look up (or create) the sources and series the chunk names that earlier chunks did not."""
    conn = session.connection()
    kind = "known_good" if ctx.known_good else "agency"
    for name in sorted({r.source or ctx.source for r in recs} | {ctx.source}):
        if name not in ctx.source_ids:
            ctx.source_ids[name] = get_or_create_source(session, name, kind=kind)
            sid = ctx.source_ids[name]
            ctx.trust[sid] = int(conn.execute(select(Source.trust).where(Source.id == sid)).scalar_one())
    wanted_series = {r.series for r in recs if r.series} - ctx.series_ids.keys()
    if wanted_series:
        ctx.series_ids.update(get_or_create_series(conn, wanted_series))


def _match(conn: Connection, recs: list[HashRecord], ctx: _Context) -> _Match:
    """Give each record its entry (the existing one its hashes belong to, else a new one), the signals it
    adds and the assessment it asks for; raises ImportFormatError on a record that contradicts the store
    or an earlier record."""
    existing = _lookup_signals(conn, recs)
    found = _Match(sorted(set(existing.values())))
    owner: dict[tuple[str, bytes], Key] = {k: ("e", v) for k, v in existing.items()}
    types: dict[Key, dict[str, bytes]] = defaultdict(dict)  # entry -> {signal: value} it has
    for eid, have in _signal_types(conn, found.existing).items():
        types[("e", eid)] = dict(have)
    file, source, series_ids = ctx.file, ctx.source, ctx.series_ids
    for rec in recs:
        category = rec.category or ctx.default_category
        if ctx.known_good:
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
            key = ("n", len(found.new_entries))
            found.new_entries.append(rec)
        have = types[key]
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
            found.new_signals.append((key, sig, value, rec.quality.get(sig)))
        akey: AssessKey = (
            ctx.source_ids[rec.source or source],
            category,
            series_ids.get(rec.series) if rec.series else None,
            rec.victim_identified,
        )
        found.wanted[key].append((akey, rec.notes, rec.line))
    return found


def _new_assessments(
    wanted: dict[Key, list[Wanted]], prior: dict[int, list[tuple[AssessKey, Grading]]]
) -> list[NewAssessment]:
    """The assessments to write. A source repeating its latest grading of an entry adds nothing, nor does a
    row repeating one in the same file; any other change (even back to an older grading) is a new one."""
    to_add: list[NewAssessment] = []
    for key, items in wanted.items():
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
    return to_add


def _write_new(
    conn: Connection,
    found: _Match,
    to_add: list[NewAssessment],
    added: dict[Key, list[Grading]],
    now: datetime,
) -> dict[Key, int]:
    """Insert the new entries (their effective grading already computed), then every new signal and
    assessment; returns the id of each entry of the chunk."""
    entry_ids: dict[Key, int] = {("e", eid): eid for eid in found.existing}
    new_ids = allocate_ids(conn, ENTRY, len(found.new_entries))
    rows = []
    for i, (eid, rec) in enumerate(zip(new_ids, found.new_entries, strict=True)):
        entry_ids[("n", i)] = eid
        eff = effective(added[("n", i)])
        row = (eid, eff.category, eff.series_id, eff.victim_identified, "active", eff.disputed, eff.source_id)
        rows.append((*row, rec.size, now, now, rec.notes))
    insert_rows(conn, ENTRY, ENTRY_COLUMNS, rows)
    insert_rows(conn, SIGNAL, SIGNAL_COLUMNS, [(entry_ids[k], t, v, q) for k, t, v, q in found.new_signals])
    insert_rows(
        conn,
        ASSESSMENT,
        ASSESSMENT_COLUMNS,
        [(entry_ids[key], *akey, notes, now) for key, akey, notes, _line in to_add],
    )
    return entry_ids


def _regrade(
    conn: Connection,
    touched: set[Key],
    prior: dict[int, list[tuple[AssessKey, Grading]]],
    added: dict[Key, list[Grading]],
    entry_ids: dict[Key, int],
    now: datetime,
) -> int:
    """Grade the existing entries that gained an assessment or a signal again, and log a change for them
    and for every new entry; returns how many existing entries were updated."""
    changes = [(eid, "create", now) for key, eid in entry_ids.items() if key[0] == "n"]
    updates = []
    for key in sorted(touched):
        eid = key[1]
        graded = [g for _, g in prior.get(eid, [])] + added.get(key, [])
        updates.append({"b_id": eid} | entry_row(effective(graded), now))
        changes.append((eid, "update", now))
    if updates:
        stmt = (
            update(Entry)
            .where(Entry.id == bindparam("b_id"))
            .values({c: bindparam(c) for c in updates[0] if c != "b_id"})
        )
        conn.execute(stmt, updates)
    insert_rows(conn, CHANGE, CHANGE_COLUMNS, changes)
    return len(updates)


def _describe(key: Key) -> str:
    return f"entry {key[1]}" if key[0] == "e" else f"the entry of an earlier row (new #{key[1] + 1})"


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
    for chunk in chunks(entry_ids):
        stmt = select(SignalRow.entry_id, SignalRow.type, SignalRow.value).where(
            SignalRow.entry_id.in_(chunk)
        )
        for eid, sig, value in conn.execute(stmt):
            types[int(eid)][sig] = bytes(value)
    return types


def _assessments(conn: Connection, entry_ids: list[int]) -> dict[int, list[tuple[AssessKey, Grading]]]:
    """The existing entries' assessments, for de-duplication and for their effective grading."""
    out: dict[int, list[tuple[AssessKey, Grading]]] = defaultdict(list)
    for chunk in chunks(entry_ids):
        for eid, g in gradings(conn, Assessment.entry_id.in_(chunk)):
            akey: AssessKey = (g.source_id, g.category, g.series_id, g.victim_identified)
            out[eid].append((akey, g))
    return out
