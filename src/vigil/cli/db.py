"""`vigil db init|migrate|stats`: create, upgrade and count the store."""

from __future__ import annotations

import click

from vigil.cli.context import Context, common


@click.group("db")
def db_group() -> None:
    """Create, inspect and migrate the store."""


@db_group.command("init")
@common
def db_init(obj: Context) -> None:
    """Create the store (or bring a new one to the current schema)."""
    from vigil.store.db import head_revision, migrate

    with obj.store(create=False) as store:
        migrate(store.engine)
        obj.say(f"store ready at {store.url} (schema {head_revision()})")


@db_group.command("migrate")
@common
def db_migrate(obj: Context) -> None:
    """Upgrade the store's schema to this vigil's version."""
    from vigil.store.db import current_revision, head_revision, migrate

    with obj.store(create=False) as store:
        before = current_revision(store.engine)
        migrate(store.engine)
        obj.say(f"schema {before or 'empty'} -> {head_revision()}")


@db_group.command("stats")
@common
def db_stats(obj: Context) -> None:
    """Counts of entries, signals, assessments, categories."""
    from vigil.store import queries

    with obj.store() as store, store.session() as session:
        data = queries.stats(session)

    def table() -> None:
        for key, value in data.items():
            if isinstance(value, dict):
                inner = ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
                click.echo(f"{key:12} {inner}")
            else:
                click.echo(f"{key:12} {value}")

    obj.emit(data, table)
