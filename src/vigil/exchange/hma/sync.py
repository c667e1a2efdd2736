"""Push the store's entries to an HMA bank and pull a bank's contents into the store, through
`vigil.exchange.hma.client.HMAClient`; vigil's notes on the contents it adds (``vigil entry=12
category=A``). The rules are in `vigil.exchange.hma`'s docstring.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from vigil import signals
from vigil.core.categories import KNOWN_GOOD, parse_category
from vigil.core.errors import ImportFormatError, VigilError
from vigil.core.records import AsDict, ExportRecord, HashRecord
from vigil.exchange.base import parse_hash, validate_record
from vigil.exchange.hma.client import DEFAULT_TIMEOUT, WORKERS, BankContent, HMAClient
from vigil.exchange.tefile import READ_TYPES, WRITE_TYPES
from vigil.store import Store
from vigil.store.ingest import ImportStats, import_records

NOTE_PREFIX = "vigil "
_NOTE = re.compile(r"^vigil entry=(\d+) category=([A-Za-z]|-)(?: |$)")


@dataclass(slots=True)
class PushReport(AsDict):
    url: str
    bank: str
    bank_contents: int = 0  # contents the bank held before the push
    entries: int = 0  # vigil entries looked at
    added: int = 0  # bank contents added
    hashes_added: int = 0
    notes_updated: int = 0
    removed: int = 0  # contents removed (retracted or known-good entries)
    unchanged: int = 0  # entries already in the bank as they are
    skipped: int = 0  # entries with no hash this HMA takes
    low_quality: int = 0  # PDQ values left out for quality below vigil's matching floor


@dataclass(slots=True)
class PullReport:
    url: str
    bank: str
    source: str
    bank_contents: int = 0
    disabled: int = 0  # contents HMA has disabled for matching: not imported
    unsupported: int = 0  # contents with no hash vigil keeps (e.g. only TMK+PDQF)
    stats: ImportStats = field(default_factory=ImportStats)  # what the import did (records, entries, ...)

    def __getattr__(self, name: str) -> Any:  # report.entries_created etc. read the import's own counts
        if name == "stats":  # not set yet (e.g. while copying): no recursion
            raise AttributeError(name)
        return getattr(self.stats, name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "bank": self.bank,
            "source": self.source,
            "bank_contents": self.bank_contents,
            "disabled": self.disabled,
            "unsupported": self.unsupported,
            **self.stats.as_dict(),  # the import's counts, flat
        }


# ---- notes -------------------------------------------------------------------------------------------------


def make_note(entry_id: int, category: str | None) -> str:
    return f"{NOTE_PREFIX}entry={entry_id} category={category or '-'}"


def parse_note(note: str | None) -> tuple[int, str | None] | None:
    """(entry id, category) from a note vigil wrote, else None."""
    match = _NOTE.match(note or "")
    if match is None:
        return None
    category = match.group(2)
    return int(match.group(1)), None if category == "-" else category


# ---- push --------------------------------------------------------------------------------------------------


def push(
    store: Store,
    base_url: str,
    bank: str,
    *,
    category: str | None = None,
    since: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    actor: str | None = None,
) -> PushReport:
    """Bring `bank` in line with the store's entries (those of `category`, changed after change `since`).

    With `actor`, the push is written to the audit chain as an export by that actor."""
    from vigil.store import queries

    wanted = _category(category)
    with HMAClient(base_url, timeout=timeout) as client:
        report = PushReport(client.url, bank)
        existing = list(client.iter_contents(bank))
        types = {vigil: hma for vigil, hma in WRITE_TYPES.items() if hma in set(client.signal_types())}
        report.bank_contents = len(existing)
        holders: dict[tuple[str, str], list[BankContent]] = defaultdict(list)
        for content in existing:
            for kind, value in content.signals.items():
                holders[(kind, value.lower())].append(content)
        with store.session() as session:
            records = queries.iter_export(session, since=since, include_retracted=True)
            plan = list(_plan(records, holders, types, wanted, report))
        with ThreadPoolExecutor(WORKERS) as pool:  # each action touches its own content: any order will do
            for done in pool.map(lambda action: action.run(client, bank), plan):
                for name, count in done.items():
                    setattr(report, name, getattr(report, name) + count)
    if actor is not None:
        from vigil.store import audit

        audit.record(store, audit.Event(actor, "export", f"{report.url}/c/bank/{bank}", _audit(report)))
    return report


@dataclass(frozen=True, slots=True)
class _Add:
    hashes: dict[str, str]
    note: str

    def run(self, client: HMAClient, bank: str) -> dict[str, int]:
        client.add(bank, self.hashes, self.note)
        return {"added": 1, "hashes_added": len(self.hashes)}


@dataclass(frozen=True, slots=True)
class _SetNote:
    content_id: int
    note: str

    def run(self, client: HMAClient, bank: str) -> dict[str, int]:
        client.set_note(bank, self.content_id, self.note)
        return {"notes_updated": 1}


@dataclass(frozen=True, slots=True)
class _Remove:
    content_id: int

    def run(self, client: HMAClient, bank: str) -> dict[str, int]:
        return {"removed": client.remove(bank, self.content_id)}


def _plan(
    records: Iterable[ExportRecord],
    holders: dict[tuple[str, str], list[BankContent]],
    types: dict[str, str],
    wanted: str | None,
    report: PushReport,
) -> Iterator[_Add | _SetNote | _Remove]:
    pdq_floor = signals.get("pdq").min_quality
    for rec in records:
        if wanted is not None and rec.category != wanted:
            continue
        report.entries += 1
        video = bool(rec.media_type and rec.media_type.startswith("video/"))
        hashes = {
            types[sig]: value.hex()
            for sig, value in sorted(rec.hashes.items())
            if sig in types and (sig == "pdq" or video)
        }
        mine = {
            c.id: c
            for kind, value in hashes.items()
            for c in holders.get((kind, value), [])
            if c.note and c.note.startswith(NOTE_PREFIX)
        }
        if rec.status != "active" or (rec.category == KNOWN_GOOD and wanted != KNOWN_GOOD):
            for content_id in sorted(mine):
                yield _Remove(content_id)
            continue
        quality = rec.quality.get("pdq")
        if "pdq" in hashes and quality is not None and quality < pdq_floor:
            del hashes["pdq"]
            report.low_quality += 1
        if not hashes:
            report.skipped += 1
            continue
        note = make_note(rec.entry_id, rec.category)
        missing = {kind: value for kind, value in hashes.items() if (kind, value) not in holders}
        stale = [
            c.id
            for c in mine.values()
            if c.note != note and (parsed := parse_note(c.note)) is not None and parsed[0] == rec.entry_id
        ]
        if missing:
            yield _Add(missing, note)
        for content_id in sorted(stale):
            yield _SetNote(content_id, note)
        if not missing and not stale:
            report.unchanged += 1


# ---- pull --------------------------------------------------------------------------------------------------


def pull(
    store: Store,
    base_url: str,
    bank: str,
    *,
    source: str,
    category: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    actor: str | None = None,
) -> PullReport:
    """Import every enabled content of `bank` as entries from `source` (idempotent), in one transaction.

    `category` grades contents that carry no vigil note. With `actor`, the pull is written to the audit
    chain as an import by that actor, in the same transaction."""
    default = _category(category)
    if not source.strip():
        raise VigilError("a pull needs a source name (who the hashes come from)")
    with HMAClient(base_url, timeout=timeout) as client:
        report = PullReport(client.url, bank, source)
        contents = list(client.iter_contents(bank))
    report.bank_contents = len(contents)
    where = f"{report.url}/c/bank/{bank}/content"
    records = list(_records(contents, where, report))
    with store.transaction() as session:
        report.stats = import_records(session, records, file=where, source=source, default_category=default)
        if actor is not None:
            from vigil.store import audit

            audit.append(session, audit.Event(actor, "import", f"{report.url}/c/bank/{bank}", _audit(report)))
    return report


def _records(contents: Iterable[BankContent], where: str, report: PullReport) -> Iterator[HashRecord]:
    for content in contents:
        if not content.enabled:
            report.disabled += 1
            continue
        hashes = {
            READ_TYPES[kind]: parse_hash(READ_TYPES[kind], value.lower(), where, content.id)
            for kind, value in sorted(content.signals.items())
            if kind in READ_TYPES
        }
        if not hashes:
            report.unsupported += 1
            continue
        parsed = parse_note(content.note)
        category = None
        if parsed is not None and parsed[1] is not None:
            try:
                category = parse_category(parsed[1])
            except ValueError as exc:
                raise ImportFormatError(where, content.id, str(exc)) from None
        notes = f"HMA content {content.id}"
        if content.note and parsed is None:
            notes += f": {content.note}"
        yield validate_record(
            HashRecord(line=content.id, hashes=hashes, category=category, notes=notes), where
        )


# ---- helpers -----------------------------------------------------------------------------------------------


def _category(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return parse_category(value)
    except ValueError as exc:
        raise VigilError(str(exc)) from None


def _audit(report: PushReport | PullReport) -> dict[str, object]:
    return {"format": "hma", **report.as_dict()}
