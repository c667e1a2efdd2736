"""What every command shares: the context (settings built once, the store they name, output mode), the
common options, the one place output is printed (`emit`) and the error boundary where library errors
become one-line messages and exit status 1."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

from vigil.config import Settings
from vigil.core.errors import VigilError

if TYPE_CHECKING:
    from vigil.store import Store

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    """The settings (built here, once, from the options and VIGIL_ variables) and how to print."""

    def __init__(self, db: str | None, as_json: bool, verbosity: int) -> None:
        self.settings = Settings(db=db) if db else Settings()
        self.db_given = db is not None
        self.as_json = as_json
        self.verbosity = verbosity

    def store(self, *, create: bool = True) -> Store:
        from vigil.store import Store

        return Store.open(self.settings, create=create)

    def say(self, text: str) -> None:
        """A message for the person at the terminal (stderr; nothing with -q)."""
        if self.verbosity >= 0:
            click.echo(text, err=True)

    def emit(
        self,
        data: Any,
        text: Callable[[], None] | str | None = None,
        *,
        indent: int | None = 2,
    ) -> None:
        """Print a command's result: `data` as JSON on stdout with --json; otherwise `text` — a message
        for `say`, or a function that prints the human form (e.g. a table on stdout)."""
        if self.as_json:
            click.echo(json.dumps(data, indent=indent))
        elif callable(text):
            text()
        elif text is not None:
            self.say(text)


def common(func: F) -> F:
    """--db/--json/-q/-v on every command as well as on the group, so either position works."""

    @click.option(
        "--db", "db", default=None, help="Store URL, or a path meaning SQLite (default: $VIGIL_DB)."
    )
    @click.option("--json", "as_json", is_flag=True, default=None, help="Print data as JSON.")
    @click.option(
        "-q", "--quiet", "quiet", is_flag=True, default=None, help="Print nothing but data and errors."
    )
    @click.option("-v", "--verbose", "verbose", count=True, help="Say more.")
    @click.pass_context
    @wraps(func)
    def wrapper(
        ctx: click.Context, db: str | None, as_json: bool | None, quiet: bool | None, verbose: int, **kw: Any
    ) -> Any:
        parent: Context = ctx.obj
        obj = Context(
            db or (parent.settings.db if parent.db_given else None),
            bool(as_json if as_json is not None else parent.as_json),
            -1 if (quiet or parent.verbosity < 0) else max(verbose, parent.verbosity),
        )
        with errors_as_messages():
            return func(obj, **kw)

    return wrapper  # type: ignore[return-value]


@contextmanager
def errors_as_messages() -> Iterator[None]:
    """Library errors become one-line messages and exit status 1 at this boundary."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except VigilError as exc:
        raise click.ClickException(str(exc)) from None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise click.ClickException(f"store error: {reason}") from None
    except OSError as exc:
        raise click.ClickException(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from None


def sync_index(obj: Context, store: Store) -> None:
    """Bring the perceptual indexes up to the store's latest change after a command changed it (the store
    stays the truth: an index that cannot be updated now is caught up by the next scan or
    `vigil index sync`)."""
    from vigil.index import sync

    try:
        reports = sync.sync(store)
    except (VigilError, OSError) as exc:
        obj.say(f"warning: perceptual index not updated ({exc}); run `vigil index sync`")
        return
    for r in reports:
        if r.entries_changed and obj.verbosity > 0:
            obj.say(f"{r.signal} index: {r.rows} rows, {r.entries_changed} entries updated")
