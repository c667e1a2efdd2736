"""The tamper-evident audit chain (DESIGN.md §3): every login, view, reveal, grade, export, settings
change and API call appends a row; each row's ``hash`` is SHA-256 over the previous row's hash and the
row's own canonical content (id, time, actor, action, target, details).

Rows get consecutive ids under a lock on the single ``audit_head`` row (the row lock on PostgreSQL, the
write lock on SQLite), so concurrent writers — several uvicorn workers, the CLI — extend one chain.
``verify`` recomputes it: an edited row no longer matches its hash, a deleted row leaves a gap and a broken
link, reordered rows break links, and deleting the newest rows disagrees with ``audit_head``. Someone able to
rewrite the whole table and recompute every hash defeats any in-database chain; ``verify`` prints the head
hash so it can be recorded elsewhere (a case file, a partner) and compared later with ``--expect``.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from vigil.store import Store
from vigil.store.models import Audit, AuditHead

GENESIS = "0" * 64
HEAD_ID = 1
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    actor: str
    action: str
    target: str | None = None
    details: dict[str, Any] | None = None
    at: datetime | None = None


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (containers)
        return "cli:unknown"


def _stamp(at: datetime) -> str:
    if at.tzinfo is None:  # SQLite gives back naive datetimes; vigil writes UTC
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_details(details: dict[str, Any] | None) -> str | None:
    if details is None:
        return None
    return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def row_hash(
    prev_hash: str,
    row_id: int,
    at: datetime,
    actor: str,
    action: str,
    target: str | None,
    details: str | None,
) -> str:
    content = json.dumps(
        [row_id, _stamp(at), actor, action, target, details], separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


def append(session: Session, events: Sequence[Event] | Event) -> None:
    """Append events to the chain inside the caller's transaction (they land when it commits).

    Takes the chain's lock first, so on SQLite call it before the transaction's other writes or early in a
    short transaction; the rows are visible to others only after commit. The rows go in as one bulk
    INSERT, not ORM objects: a busy API server appends hundreds at a time (ORM objects cost 3x as much,
    all of it holding the GIL its event loop needs)."""
    batch = [events] if isinstance(events, Event) else list(events)
    if not batch:
        return
    # The UPDATE takes the lock (row lock / SQLite write lock) before the head is read.
    session.execute(
        update(AuditHead).where(AuditHead.id == HEAD_ID).values(count=AuditHead.count + len(batch))
    )
    prev, last_id = session.execute(
        select(AuditHead.last_hash, AuditHead.last_id).where(AuditHead.id == HEAD_ID)
    ).one()
    next_id = last_id + 1
    rows = []
    for event in batch:
        at = event.at or datetime.now(UTC)
        details = canonical_details(event.details)
        digest = row_hash(prev, next_id, at, event.actor, event.action, event.target, details)
        rows.append(
            {
                "id": next_id,
                "at": at,
                "actor": event.actor,
                "action": event.action,
                "target": event.target,
                "details": details,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev, next_id = digest, next_id + 1
    session.execute(insert(Audit), rows)
    session.execute(
        update(AuditHead).where(AuditHead.id == HEAD_ID).values(last_id=next_id - 1, last_hash=prev)
    )


def record(store: Store, event: Event) -> None:
    """Append one event in its own transaction."""
    with store.transaction() as session:
        append(session, event)


@dataclass
class VerifyReport:
    rows: int = 0
    head_id: int = 0
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(store: Store, *, expect: str | None = None, max_problems: int = 100) -> VerifyReport:
    """Recompute the chain from the first row; every break is a problem with the row it is at."""
    report = VerifyReport()

    def problem(text: str) -> None:
        if len(report.problems) < max_problems:
            report.problems.append(text)

    prev_hash, prev_id = GENESIS, 0
    columns = (Audit.id, Audit.at, Audit.actor, Audit.action, Audit.target, Audit.details)
    with store.session() as session:
        head = session.execute(select(AuditHead).where(AuditHead.id == HEAD_ID)).scalar_one_or_none()
        result = session.execute(
            select(*columns, Audit.prev_hash, Audit.hash).order_by(Audit.id).execution_options(yield_per=5000)
        )
        for row_id, at, actor, action, target, details, stored_prev, stored_hash in result:
            report.rows += 1
            if row_id != prev_id + 1:
                problem(
                    f"rows {prev_id + 1}..{row_id - 1} are missing (deleted)"
                    if row_id > prev_id + 1
                    else f"row {row_id}: out of order after row {prev_id}"
                )
            if stored_prev != prev_hash:
                problem(
                    f"row {row_id}: link to the previous row is broken (a row before it was edited, deleted "
                    "or reordered)"
                )
            if row_hash(stored_prev, row_id, at, actor, action, target, details) != stored_hash:
                problem(f"row {row_id}: content does not match its hash (edited)")
            prev_hash, prev_id = stored_hash, row_id
    report.head_id, report.head_hash = prev_id, prev_hash
    if head is None:
        problem("the audit head row is missing")
    else:
        if (head.last_id, head.last_hash) != (prev_id, prev_hash):
            problem(
                f"the chain ends at row {prev_id} but the head records row {head.last_id} "
                "(the newest rows were deleted, or the head was edited)"
            )
        if head.count != report.rows:
            problem(f"{report.rows} rows in the chain, the head counts {head.count} (rows deleted or added)")
    if expect is not None and expect != prev_hash and not _contains(store, expect):
        problem(f"the recorded hash {expect} is not in the chain (the chain was rewritten)")
    return report


def _contains(store: Store, digest: str) -> bool:
    with store.session() as session:
        return session.scalar(select(Audit.id).where(Audit.hash == digest)) is not None


class AuditBuffer:
    """Batches events from a busy server (API calls) into one transaction every `interval` seconds or
    `size` events; `close()` flushes what is left. A crash loses at most the last interval's calls."""

    def __init__(self, store: Store, *, interval: float = 0.5, size: int = 500) -> None:
        self.store = store
        self.interval = interval
        self.size = size
        self._pending: list[Event] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="vigil-audit", daemon=True)
        self._thread.start()

    def add(self, event: Event) -> None:
        with self._lock:
            self._pending.append(event)
            full = len(self._pending) >= self.size
        if full:
            self._wake.set()

    def flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        if batch:
            try:
                with self.store.transaction() as session:
                    append(session, batch)
            except Exception:  # the store is away: keep the events and retry at the next flush
                log.exception("audit flush failed; %d events kept for the next try", len(batch))
                with self._lock:
                    self._pending[:0] = batch

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join(timeout=10)
        self.flush()


def events_of(rows: Iterable[Audit]) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "at": _stamp(r.at),
            "actor": r.actor,
            "action": r.action,
            "target": r.target,
            "details": json.loads(r.details) if r.details else None,
            "hash": r.hash,
        }
        for r in rows
    ]
