"""`vigil hma push|pull`: exchange hashes with a bank of Meta's Hasher-Matcher-Actioner over its HTTP API."""

from __future__ import annotations

from types import ModuleType

import click

from vigil.cli.context import Context, common, sync_index
from vigil.core.categories import CATEGORIES
from vigil.core.errors import VigilError

URL_HELP = "HMA base URL, e.g. http://127.0.0.1:5000 (default: $VIGIL_HMA_URL)."
BANK_HELP = "HMA bank name (HMA wants UPPER_WITH_UNDERSCORE)."
CATEGORY = click.Choice(list(CATEGORIES), case_sensitive=False)
CATEGORY_METAVAR = f"[{'|'.join(CATEGORIES)}]"


def adapter_module() -> ModuleType:
    try:
        from vigil.exchange import hma as adapter
    except ModuleNotFoundError as exc:
        raise VigilError(f"vigil hma needs {exc.name}: pip install 'vigil[server]'") from None
    return adapter


@click.group("hma")
def hma_group() -> None:
    """Push hashes to, and pull them from, a bank of Meta's Hasher-Matcher-Actioner (HMA).

    HMA needs its curator role (ROLE_CURATOR); the bank must exist there."""


@hma_group.command("push")
@click.option("--url", required=True, envvar="VIGIL_HMA_URL", help=URL_HELP)
@click.option("--bank", required=True, help=BANK_HELP)
@click.option(
    "--category",
    type=CATEGORY,
    metavar=CATEGORY_METAVAR,
    default=None,
    help="Only entries of this category; known-good (G) is pushed only when asked for.",
)
@click.option(
    "--since",
    type=click.IntRange(min=0),
    default=None,
    help="Only entries changed after this change sequence number.",
)
@common
def push_cmd(obj: Context, url: str, bank: str, category: str | None, since: int | None) -> None:
    """Add the store's active pdq (and video md5) hashes to an HMA bank; remove retracted ones.

    Each entry becomes one bank content whose note says `vigil entry=ID category=X`. Hashes already in the
    bank are not added again; contents vigil added are removed once their entry is retracted (or graded
    known-good). A PDQ whose quality is below vigil's matching floor is left out."""
    from vigil.store import audit

    adapter = adapter_module()
    with obj.store() as store:
        report = adapter.push(store, url, bank, category=category, since=since, actor=audit.cli_actor())
    obj.emit(
        report.as_dict(),
        f"{report.bank}: {report.entries} entries, {report.added} contents added "
        f"({report.hashes_added} hashes), {report.notes_updated} notes updated, {report.removed} removed, "
        f"{report.unchanged} unchanged, {report.skipped} with no hash HMA takes, "
        f"{report.low_quality} low-quality PDQs left out",
    )


@hma_group.command("pull")
@click.option("--url", required=True, envvar="VIGIL_HMA_URL", help=URL_HELP)
@click.option("--bank", required=True, help=BANK_HELP)
@click.option("--source", required=True, help="Who the hashes come from (recorded as their source).")
@click.option(
    "--category",
    type=CATEGORY,
    metavar=CATEGORY_METAVAR,
    default=None,
    help="Category for contents that carry none; a vigil note's category wins.",
)
@common
def pull_cmd(obj: Context, url: str, bank: str, source: str, category: str | None) -> None:
    """Import an HMA bank's pdq and video md5/sha256 hashes, atomically; pulling again adds nothing."""
    from vigil.store import audit

    adapter = adapter_module()
    with obj.store() as store:
        report = adapter.pull(store, url, bank, source=source, category=category, actor=audit.cli_actor())
        sync_index(obj, store)
    obj.emit(
        report.as_dict(),
        f"{report.bank}: {report.bank_contents} contents, {report.entries_created} new entries, "
        f"{report.signals_added} new hashes, {report.assessments_added} new assessments, "
        f"{report.entries_updated} entries updated, {report.disabled} disabled and "
        f"{report.unsupported} unsupported contents skipped",
    )
