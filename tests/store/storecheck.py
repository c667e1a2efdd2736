"""Helpers for the store tests: run the CLI against a store, and capture a store's whole content."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import Table, select

from vigil import exchange
from vigil.cli import main
from vigil.store import Store, queries
from vigil.store.models import Assessment, Change, Entry, Series, Signal, Source

TABLES: tuple[Table, ...] = tuple(
    m.__table__  # type: ignore[misc]
    for m in (Source, Series, Entry, Signal, Assessment, Change)
)


def cli(store: Store | str, *args: str) -> Result:
    """`vigil --db <store> ARGS...`; the store may be open in the test too."""
    db = store.url if isinstance(store, Store) else store
    return CliRunner().invoke(main, ["--db", db, *args], catch_exceptions=False)


def cli_import(store: Store | str, *files: Path | str, fmt: str = "csv", extra: tuple[str, ...] = ()) -> Any:
    """Import and return the parsed --json result (asserting success)."""
    result = cli(store, "import", *map(str, files), "--format", fmt, "--json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def export_text(store: Store, fmt: str = "csv", since: int | None = None) -> str:
    buf = io.StringIO()
    with store.session() as session:
        exchange.get(fmt).write(buf, queries.iter_export(session, since=since))
    return buf.getvalue()


@dataclass(frozen=True)
class Snapshot:
    stats: dict[str, object]
    export: str
    rows: dict[str, list[tuple[object, ...]]]


def snapshot(store: Store) -> Snapshot:
    """Everything an import could change: stats, a full CSV export, and every row of the store's tables."""
    with store.session() as session:
        stats = queries.stats(session)
        rows = {
            t.name: [tuple(r) for r in session.execute(select(t).order_by(*t.primary_key.columns))]
            for t in TABLES
        }
    return Snapshot(stats, export_text(store), rows)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def hexof(seed: str, signal: str = "md5") -> str:
    """A made-up, benign hash value: the digest of a label."""
    import hashlib

    return hashlib.new(signal, seed.encode()).hexdigest()


def entry_row(store: Store, md5: str) -> Entry:
    """The entry owning an md5 (hex)."""
    with store.session() as session:
        eid = session.scalar(
            select(Signal.entry_id).where(Signal.type == "md5", Signal.value == bytes.fromhex(md5))
        )
        assert eid is not None, f"no entry has md5 {md5}"
        entry = session.get(Entry, eid)
        assert entry is not None
        session.expunge(entry)
        return entry
