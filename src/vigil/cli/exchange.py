"""`vigil import`, `vigil export` and `vigil keys`: hash sets in the formats the field uses, and signed
delta bundles between vigil instances."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from vigil.cli.context import Context, common, sync_index

if TYPE_CHECKING:
    from vigil.store import Store


class FormatChoice(click.Choice):
    """The exchange formats, listed only when a command needs them: importing the format modules (and
    SQLAlchemy with them) at start-up cost every command, `vigil --help` included, ~0.15 s."""

    def __init__(self, readable: bool) -> None:
        super().__init__([])
        self.readable = readable
        self.names: list[str] | None = None

    @property  # type: ignore[override]
    def choices(self) -> list[str]:
        if self.names is None:
            from vigil import exchange

            names = exchange.names(readable=True) if self.readable else exchange.names(writable=True)
            self.names = [*names, "delta"]  # delta: signed bundles between vigil instances
        return self.names

    @choices.setter
    def choices(self, _value: object) -> None:  # click.Choice.__init__ assigns it
        pass


@click.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--format", "fmt", required=True, type=FormatChoice(True), help="File format.")
@click.option("--source", default=None, help="Who the hashes come from (default: local, or known-good).")
@click.option("--category", default=None, help="Category for rows that carry none (A/B/C/I/X/P/N/G).")
@click.option(
    "--known-good", is_flag=True, help="The hashes are known-good (category G); matching files are skipped."
)
@click.option("--ignore-extra", is_flag=True, help="Ignore columns vigil does not know.")
@common
def import_cmd(
    obj: Context,
    files: tuple[Path, ...],
    fmt: str,
    source: str | None,
    category: str | None,
    known_good: bool,
    ignore_extra: bool,
) -> None:
    """Import hash sets, atomically: one bad line and nothing from any FILE is imported."""
    from vigil import exchange
    from vigil.core.categories import parse_category
    from vigil.store import audit
    from vigil.store.ingest import import_records

    if fmt == "delta":
        import_deltas(obj, files)
        return
    if category is not None:
        try:
            category = parse_category(category)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--category") from None
    reader = exchange.get(fmt)
    options = exchange.ImportOptions(ignore_extra=ignore_extra)
    if reader.known_good:  # a known-good reference set (NSRL) is that whatever the flags say
        known_good = True
        source = source or "NSRL RDS"
    total: dict[str, Any] = {}
    with obj.store() as store:
        with store.transaction() as session:
            for path in files:
                stats = import_records(
                    session,
                    exchange.iter_file(path, reader, options),
                    file=str(path),
                    source=source or ("known-good" if known_good else "local"),
                    known_good=known_good,
                    default_category=category,
                )
                total[str(path)] = stats.as_dict()
            audit.append(
                session, audit.Event(audit.cli_actor(), "import", None, {"format": fmt, "files": total})
            )
        sync_index(obj, store)

    def lines() -> None:
        for name, s in total.items():
            obj.say(
                f"{name}: {s['records']} records, {s['entries_created']} new entries, "
                f"{s['signals_added']} new hashes, {s['assessments_added']} new assessments, "
                f"{s['entries_updated']} entries updated"
            )

    obj.emit(total, lines)


def import_deltas(obj: Context, files: tuple[Path, ...]) -> None:
    from vigil.exchange import delta
    from vigil.store import audit

    results = []
    with obj.store() as store:
        with store.transaction() as session:  # every bundle of the command, or none
            for path in files:
                results.append(delta.apply_bundle(session, path).as_dict())
            summary = {"format": "delta", "files": {str(p): r for p, r in zip(files, results, strict=True)}}
            audit.append(session, audit.Event(audit.cli_actor(), "import", None, summary))
        sync_index(obj, store)

    def lines() -> None:
        for r in results:
            if r["already_applied"]:
                obj.say(
                    f"{r['source']}: bundle {r['from_seq']}-{r['to_seq']} was already applied; nothing to do"
                )
            else:
                obj.say(
                    f"{r['source']}: changes {r['from_seq']}-{r['to_seq']}: {r['records']} entries, "
                    f"{r['entries_created']} new, {r['assessments_added']} assessments, "
                    f"{r['retracted']} retracted"
                )

    obj.emit(results, lines)


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", required=True, type=FormatChoice(False), help="File format.")
@click.option(
    "--since",
    type=click.IntRange(min=0),
    default=None,
    help="Only entries changed after this sequence number.",
)
@click.option(
    "--sign",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Private key (PEM) that signs a --format delta bundle.",
)
@click.option("--as-source", default=None, help="Name this store goes by at partners (delta bundles).")
@click.option(
    "--include-untrusted",
    is_flag=True,
    help="Also export reviewers' gradings that have not reached consensus yet (left out by default).",
)
@common
def export_cmd(
    obj: Context,
    file: Path,
    fmt: str,
    since: int | None,
    sign: Path | None,
    as_source: str | None,
    include_untrusted: bool,
) -> None:
    """Export the store's active entries (written to a temporary file, then renamed into place)."""
    from vigil import exchange
    from vigil.store import queries

    if fmt == "delta":
        export_delta(obj, file, since or 0, sign, as_source, include_untrusted)
        return
    if sign is not None:
        raise click.BadParameter("only --format delta bundles are signed", param_hint="--sign")
    writer = exchange.get(fmt)
    with obj.store() as store, store.session() as session:
        records = queries.iter_export(session, since=since, include_untrusted=include_untrusted)
        count = exchange.write_file_atomic(file, writer, records)
        session.rollback()
        audit_export(store, file, fmt, count, since, include_untrusted)
    obj.emit(
        {"file": str(file), "format": fmt, "records": count}, f"wrote {count} records to {file}", indent=None
    )


def export_delta(
    obj: Context, file: Path, since: int, sign: Path | None, as_source: str | None, include_untrusted: bool
) -> None:
    from vigil.exchange import delta

    if sign is None:
        raise click.BadParameter("a delta bundle must be signed: --sign PRIVATE.pem", param_hint="--sign")
    with obj.store() as store, store.session() as session:
        count = delta.write_bundle(
            session, file, since, sign, as_source or "vigil", include_untrusted=include_untrusted
        )
        session.rollback()
        audit_export(store, file, "delta", count, since, include_untrusted)
    obj.emit(
        {"file": str(file), "format": "delta", "records": count},
        f"wrote a signed bundle of {count} changed entries to {file}",
        indent=None,
    )


def audit_export(store: Store, file: Path, fmt: str, count: int, since: int | None, untrusted: bool) -> None:
    from vigil.store import audit

    details = {"format": fmt, "records": count, "since": since, "include_untrusted": untrusted}
    audit.record(store, audit.Event(audit.cli_actor(), "export", str(file.resolve()), details))


@click.group("keys")
def keys_group() -> None:
    """Ed25519 keys for signed delta exchange with partner instances."""


@keys_group.command("generate")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@common
def keys_generate(obj: Context, out: Path) -> None:
    """Write private.pem (mode 0600) and public.pem into --out; give public.pem to partners."""
    from vigil.exchange import delta

    private, public = delta.generate_keys(out)
    fp = delta.fingerprint(delta.load_public(public.read_bytes(), str(public)))
    obj.emit(
        {"private": str(private), "public": str(public), "fingerprint": fp},
        f"wrote {private} (keep it secret) and {public}; fingerprint {fp}",
        indent=None,
    )


@keys_group.command("trust")
@click.argument("public_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", required=True, help="The partner's source name in this store.")
@common
def keys_trust(obj: Context, public_file: Path, source: str) -> None:
    """Accept delta bundles signed by this public key, as coming from --source."""
    from vigil.exchange import delta
    from vigil.store import audit

    with obj.store() as store, store.transaction() as session:
        fp = delta.trust(session, public_file, source)
        details = {"source": source, "file": str(public_file.resolve())}
        audit.append(session, audit.Event(audit.cli_actor(), "keys.trust", f"key:{fp}", details))
    obj.emit({"fingerprint": fp, "source": source}, f"trusting key {fp} for {source}", indent=None)


@keys_group.command("list")
@common
def keys_list(obj: Context) -> None:
    """Trusted partner keys and how far their changes have been applied."""
    from vigil.exchange import delta

    with obj.store() as store, store.session() as session:
        rows = delta.trusted(session)

    def table() -> None:
        for r in rows:
            click.echo(f"{r['fingerprint']}  {r['source']}  applied to change {r['last_seq']}")

    obj.emit(rows, table)
