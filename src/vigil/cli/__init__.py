"""The `vigil` command line (DESIGN.md §4): one click group; each command parses, calls the library and
prints through `Context.emit`. Commands live in one module per area and are registered here."""

from __future__ import annotations

import sys
from typing import Any

import click

from vigil import __version__
from vigil.cli.admin import apikey_group, audit_group, retract_cmd, user_group
from vigil.cli.context import Context, errors_as_messages
from vigil.cli.db import db_group
from vigil.cli.exchange import export_cmd, import_cmd, keys_group
from vigil.cli.hma import hma_group
from vigil.cli.index import index_group
from vigil.cli.scan import demo_cmd, hash_cmd, hotline_cmd, scan_cmd
from vigil.cli.serve import serve_cmd


class VigilGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        with errors_as_messages():
            return super().invoke(ctx)


@click.group(cls=VigilGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vigil")
@click.option("--db", default=None, help="Store URL, or a path meaning SQLite (default: $VIGIL_DB).")
@click.option("--json", "as_json", is_flag=True, help="Print data as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but data and errors.")
@click.option("-v", "--verbose", count=True, help="Say more.")
@click.pass_context
def main(ctx: click.Context, db: str | None, as_json: bool, quiet: bool, verbose: int) -> None:
    """vigil: known-hash store, evidence triage and hash-set exchange."""
    ctx.obj = Context(db, as_json, -1 if quiet else verbose)


for command in (
    db_group,
    import_cmd,
    export_cmd,
    keys_group,
    hotline_cmd,
    apikey_group,
    serve_cmd,
    retract_cmd,
    index_group,
    hash_cmd,
    scan_cmd,
    demo_cmd,
    user_group,
    audit_group,
    hma_group,
):
    main.add_command(command)


def run() -> None:  # pragma: no cover - console entry
    main(prog_name="vigil")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
