"""`vigil index sync|rebuild|verify|stats`: the memory-mapped perceptual index kept beside the store."""

from __future__ import annotations

from typing import Any

import click

from vigil.cli.context import Context, common


@click.group("index")
def index_group() -> None:
    """The memory-mapped perceptual (PDQ) index kept beside the store."""


def report(obj: Context, reports: list[Any], verb: str) -> None:
    def lines() -> None:
        for r in reports:
            obj.say(f"{r.signal}: {verb}, {r.rows} rows, store change {r.store_seq}")
            for p in r.problems:
                obj.say(f"  problem: {p}")

    obj.emit([r.as_dict() for r in reports], lines)


@index_group.command("sync")
@common
def index_sync(obj: Context) -> None:
    """Apply the store's changes since the index was last brought up to date."""
    from vigil.index import sync

    with obj.store() as store:
        report(obj, sync.sync(store), "up to date")


@index_group.command("rebuild")
@common
def index_rebuild(obj: Context) -> None:
    """Write the index afresh from the store (atomically; readers keep the old one until they reopen)."""
    from vigil.index import sync

    with obj.store() as store:
        report(obj, sync.rebuild(store), "rebuilt")


@index_group.command("verify")
@common
def index_verify(obj: Context) -> None:
    """Check the index files and compare them row for row with the store; exit 1 on any problem."""
    from vigil.index import sync

    with obj.store() as store:
        reports = sync.verify(store)
    report(obj, reports, "checked")
    if any(r.problems for r in reports):
        raise click.exceptions.Exit(1)


@index_group.command("stats")
@common
def index_stats(obj: Context) -> None:
    """Rows, pending log records, size on disk and store position of each index."""
    from vigil.index import PDQIndex, sync

    out = []
    with obj.store() as store:
        for sig in sync.indexed_signals():
            with PDQIndex.open(store.index_root / sig.name, create=False) as index:
                out.append({"signal": sig.name} | index.stats())

    def table() -> None:
        for row in out:
            click.echo(" ".join(f"{k}={v}" for k, v in row.items()))

    obj.emit(out, table)
