"""The `vigil` command line (DESIGN.md §4). Each command parses, calls the library, and prints."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from vigil import __version__
from vigil.config import Settings
from vigil.core.errors import VigilError

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    def __init__(self, db: str | None, as_json: bool, verbosity: int) -> None:
        self.settings = Settings(db=db) if db else Settings()
        self.db_given = db is not None
        self.as_json = as_json
        self.verbosity = verbosity

    def store(self, *, create: bool = True) -> Any:
        from vigil.store import Store

        return Store.open(self.settings, create=create)

    def say(self, text: str) -> None:
        if self.verbosity >= 0:
            click.echo(text, err=True)


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
        with _errors_as_messages():
            return func(obj, **kw)

    return wrapper  # type: ignore[return-value]


@contextmanager
def _errors_as_messages() -> Iterator[None]:
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


class VigilGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        with _errors_as_messages():
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


# ---- db ----


@main.group()
def db() -> None:
    """Create, inspect and migrate the store."""


@db.command("init")
@common
def db_init(obj: Context) -> None:
    """Create the store (or bring a new one to the current schema)."""
    from vigil.store import Store
    from vigil.store.db import head_revision

    with Store.open(obj.settings, create=False) as store:
        from vigil.store.db import migrate

        migrate(store.engine)
        obj.say(f"store ready at {store.url} (schema {head_revision()})")


@db.command("migrate")
@common
def db_migrate(obj: Context) -> None:
    """Upgrade the store's schema to this vigil's version."""
    from vigil.store.db import current_revision, head_revision, migrate

    with obj.store(create=False) as store:
        before = current_revision(store.engine)
        migrate(store.engine)
        obj.say(f"schema {before or 'empty'} -> {head_revision()}")


@db.command("stats")
@common
def db_stats(obj: Context) -> None:
    """Counts of entries, signals, assessments, categories."""
    from vigil.store import queries

    with obj.store() as store, store.session() as session:
        data = queries.stats(session)
    if obj.as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
            click.echo(f"{key:12} {inner}")
        else:
            click.echo(f"{key:12} {value}")


# ---- import / export ----


class _FormatChoice(click.Choice):
    """The exchange formats, listed only when a command needs them: importing the format modules (and
    SQLAlchemy with them) at start-up cost every command, `vigil --help` included, ~0.15 s."""

    def __init__(self, readable: bool) -> None:
        super().__init__([])
        self.readable = readable
        self._names: list[str] | None = None

    @property  # type: ignore[override]
    def choices(self) -> list[str]:
        if self._names is None:
            from vigil import exchange

            names = exchange.names(readable=True) if self.readable else exchange.names(writable=True)
            self._names = [*names, "delta"]  # delta: signed bundles between vigil instances
        return self._names

    @choices.setter
    def choices(self, _value: object) -> None:  # click.Choice.__init__ assigns it
        pass


@main.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--format", "fmt", required=True, type=_FormatChoice(True), help="File format.")
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
    from vigil.store.ingest import ImportStats, import_records

    if fmt == "delta":
        _import_deltas(obj, files)
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
                stats: ImportStats = import_records(
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
        _sync_index(obj, store)
    if obj.as_json:
        click.echo(json.dumps(total, indent=2))
    else:
        for name, s in total.items():
            obj.say(
                f"{name}: {s['records']} records, {s['entries_created']} new entries, "
                f"{s['signals_added']} new hashes, {s['assessments_added']} new assessments, "
                f"{s['entries_updated']} entries updated"
            )


def _sync_index(obj: Context, store: Any) -> None:
    """Bring the perceptual indexes up to the store's latest change (the store stays the truth: an index
    that cannot be updated now is caught up by the next scan or `vigil index sync`)."""
    from vigil.index import sync

    try:
        reports = sync.sync(store)
    except (VigilError, OSError) as exc:
        obj.say(f"warning: perceptual index not updated ({exc}); run `vigil index sync`")
        return
    for r in reports:
        if r.entries_changed and obj.verbosity > 0:
            obj.say(f"{r.signal} index: {r.rows} rows, {r.entries_changed} entries updated")


@main.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", required=True, type=_FormatChoice(False), help="File format.")
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
        _export_delta(obj, file, since or 0, sign, as_source, include_untrusted)
        return
    if sign is not None:
        raise click.BadParameter("only --format delta bundles are signed", param_hint="--sign")
    writer = exchange.get(fmt)
    with obj.store() as store, store.session() as session:
        records = queries.iter_export(session, since=since, include_untrusted=include_untrusted)
        count = exchange.write_file_atomic(file, writer, records)
        session.rollback()
        _audit_export(store, file, fmt, count, since, include_untrusted)
    if obj.as_json:
        click.echo(json.dumps({"file": str(file), "format": fmt, "records": count}))
    else:
        obj.say(f"wrote {count} records to {file}")


def _audit_export(store: Any, file: Path, fmt: str, count: int, since: int | None, untrusted: bool) -> None:
    from vigil.store import audit

    details = {"format": fmt, "records": count, "since": since, "include_untrusted": untrusted}
    audit.record(store, audit.Event(audit.cli_actor(), "export", str(file.resolve()), details))


def _export_delta(
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
        _audit_export(store, file, "delta", count, since, include_untrusted)
    if obj.as_json:
        click.echo(json.dumps({"file": str(file), "format": "delta", "records": count}))
    else:
        obj.say(f"wrote a signed bundle of {count} changed entries to {file}")


def _import_deltas(obj: Context, files: tuple[Path, ...]) -> None:
    from vigil.exchange import delta
    from vigil.store import audit

    results = []
    with obj.store() as store:
        with store.transaction() as session:  # every bundle of the command, or none
            for path in files:
                results.append(delta.apply_bundle(session, path).as_dict())
            summary = {"format": "delta", "files": {str(p): r for p, r in zip(files, results, strict=True)}}
            audit.append(session, audit.Event(audit.cli_actor(), "import", None, summary))
        _sync_index(obj, store)
    if obj.as_json:
        click.echo(json.dumps(results, indent=2))
        return
    for r in results:
        if r["already_applied"]:
            obj.say(f"{r['source']}: bundle {r['from_seq']}-{r['to_seq']} was already applied; nothing to do")
        else:
            obj.say(
                f"{r['source']}: changes {r['from_seq']}-{r['to_seq']}: {r['records']} entries, "
                f"{r['entries_created']} new, {r['assessments_added']} assessments, "
                f"{r['retracted']} retracted"
            )


@main.group("keys")
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
    if obj.as_json:
        click.echo(json.dumps({"private": str(private), "public": str(public), "fingerprint": fp}))
    else:
        obj.say(f"wrote {private} (keep it secret) and {public}; fingerprint {fp}")


@keys_group.command("trust")
@click.argument("public_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", required=True, help="The partner's source name in this store.")
@common
def keys_trust(obj: Context, public_file: Path, source: str) -> None:
    """Accept delta bundles signed by this public key, as coming from --source."""
    from vigil.exchange import delta

    with obj.store() as store, store.transaction() as session:
        fp = delta.trust(session, public_file, source)
    if obj.as_json:
        click.echo(json.dumps({"fingerprint": fp, "source": source}))
    else:
        obj.say(f"trusting key {fp} for {source}")


@keys_group.command("list")
@common
def keys_list(obj: Context) -> None:
    """Trusted partner keys and how far their changes have been applied."""
    from vigil.exchange import delta

    with obj.store() as store, store.session() as session:
        rows = delta.trusted(session)
    if obj.as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        for r in rows:
            click.echo(f"{r['fingerprint']}  {r['source']}  applied to change {r['last_seq']}")


@main.command("hotline")
@click.argument("scan_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--reporter-name", required=True, help="Who makes the report.")
@click.option("--reporter-email", required=True)
@click.option("--reporter-phone", default=None)
@click.option("--organization", default=None, help="The reporting unit, hotline or platform.")
@click.option("--incident-type", default=None, help="Incident type as the hotline names it.")
@common
def hotline_cmd(
    obj: Context,
    scan_dir: Path,
    out: Path,
    reporter_name: str,
    reporter_email: str,
    reporter_phone: str | None,
    organization: str | None,
    incident_type: str | None,
) -> None:
    """Package a scan's matches as a hotline / CyberTipline-style report (JSON + CSV; never sent)."""
    from vigil.report import hotline

    report = hotline.build(
        scan_dir,
        reporter_name=reporter_name,
        reporter_email=reporter_email,
        reporter_phone=reporter_phone,
        organization=organization,
        incident_type=incident_type or hotline.DEFAULT_INCIDENT,
    )
    paths = hotline.write(report, out)
    if obj.as_json:
        click.echo(json.dumps({"files": [str(p) for p in paths], "reported": len(report["fileDetails"])}))
    else:
        obj.say(f"{len(report['fileDetails'])} matched files reported in {out}")


@main.group("apikey")
def apikey_group() -> None:
    """Keys platforms use to call the matching API."""


@apikey_group.command("create")
@click.argument("name")
@click.option(
    "--scopes", default="lookup", show_default=True, help="Comma-separated: lookup, submit, changes."
)
@click.option(
    "--rate-limit", type=click.IntRange(min=0), default=100, show_default=True, help="Requests/s; 0 = none."
)
@common
def apikey_create(obj: Context, name: str, scopes: str, rate_limit: int) -> None:
    """Create a key and print it once (only its SHA-256 is kept)."""
    from vigil.store import apikeys, audit

    wanted = sorted({s.strip() for s in scopes.split(",") if s.strip()})
    if not wanted or any(s not in apikeys.SCOPES for s in wanted):
        raise click.BadParameter(f"scopes must be among {', '.join(apikeys.SCOPES)}", param_hint="--scopes")
    with obj.store() as store, store.transaction() as session:
        details = {"scopes": wanted, "rate_limit": rate_limit}
        audit.append(session, audit.Event(audit.cli_actor(), "apikey.create", f"apikey:{name}", details))
        key = apikeys.create_key(session, name, wanted, rate_limit)
    if obj.as_json:
        click.echo(json.dumps({"name": name, "key": key, "scopes": wanted, "rate_limit": rate_limit}))
    else:
        click.echo(key)
        obj.say(f"API key {name!r} ({', '.join(wanted)}, {rate_limit or 'no'} requests/s): shown only now")


@apikey_group.command("revoke")
@click.argument("name")
@common
def apikey_revoke(obj: Context, name: str) -> None:
    """Revoke a key: its calls are refused from now on."""
    from vigil.store import apikeys, audit

    with obj.store() as store, store.transaction() as session:
        audit.append(session, audit.Event(audit.cli_actor(), "apikey.revoke", f"apikey:{name}"))
        apikeys.revoke_key(session, name)
    obj.say(f"revoked {name!r}")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8700, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@common
def serve_cmd(obj: Context, host: str, port: int, workers: int) -> None:
    """Run the matching API (/api/v1) and the review web app (uvicorn; workers share the store and index)."""
    import os

    import uvicorn

    with obj.store():  # create or check the schema once, before the workers start
        pass
    os.environ["VIGIL_DB"] = obj.settings.db
    uvicorn.run(
        "vigil.server.app:app_from_env",
        factory=True,
        http="vigil.server.protocol:NoDelayProtocol",  # TCP_NODELAY also under --workers N
        host=host,
        port=port,
        workers=workers,
        log_level="warning" if obj.verbosity <= 0 else "info",
        timeout_graceful_shutdown=10,
    )


@main.command("retract")
@click.argument("entries", nargs=-1, required=True)
@click.option("--restore", is_flag=True, help="Make retracted entries active again.")
@common
def retract_cmd(obj: Context, entries: tuple[str, ...], restore: bool) -> None:
    """Retract known entries (they stop matching and leave exports), by id or as SIGNAL:HEX."""
    from vigil import signals
    from vigil.store.bulk import lookup_signal_owners
    from vigil.store.ingest import set_status

    with obj.store() as store:
        with store.transaction() as session:
            ids: list[int] = []
            for text in entries:
                if text.isdigit():
                    ids.append(int(text))
                    continue
                name, _, value = text.partition(":")
                try:
                    raw = signals.get(name).parse(value)
                except (KeyError, ValueError) as exc:
                    raise click.BadParameter(f"{text}: {exc}", param_hint="ENTRIES") from None
                owner = lookup_signal_owners(session.connection(), name, [raw]).get(raw)
                if owner is None:
                    raise click.BadParameter(f"{text}: no such hash in the store", param_hint="ENTRIES")
                ids.append(owner)
            changed = set_status(session, ids, "active" if restore else "retracted")
        _sync_index(obj, store)
    if obj.as_json:
        click.echo(json.dumps({"changed": changed}))
    else:
        obj.say(f"{'restored' if restore else 'retracted'} {len(changed)} entries")


# ---- perceptual index ----


@main.group("index")
def index_group() -> None:
    """The memory-mapped perceptual (PDQ) index kept beside the store."""


def _index_reports(obj: Context, reports: list[Any], verb: str) -> None:
    if obj.as_json:
        click.echo(json.dumps([r.as_dict() for r in reports], indent=2))
        return
    for r in reports:
        obj.say(f"{r.signal}: {verb}, {r.rows} rows, store change {r.store_seq}")
        for p in r.problems:
            obj.say(f"  problem: {p}")


@index_group.command("sync")
@common
def index_sync(obj: Context) -> None:
    """Apply the store's changes since the index was last brought up to date."""
    from vigil.index import sync

    with obj.store() as store:
        _index_reports(obj, sync.sync(store), "up to date")


@index_group.command("rebuild")
@common
def index_rebuild(obj: Context) -> None:
    """Write the index afresh from the store (atomically; readers keep the old one until they reopen)."""
    from vigil.index import sync

    with obj.store() as store:
        _index_reports(obj, sync.rebuild(store), "rebuilt")


@index_group.command("verify")
@common
def index_verify(obj: Context) -> None:
    """Check the index files and compare them row for row with the store; exit 1 on any problem."""
    from vigil.index import sync

    with obj.store() as store:
        reports = sync.verify(store)
    _index_reports(obj, reports, "checked")
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
    if obj.as_json:
        click.echo(json.dumps(out, indent=2))
    else:
        for row in out:
            click.echo(" ".join(f"{k}={v}" for k, v in row.items()))


# ---- hash / scan / demo ----


@main.command("hash")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--no-perceptual", is_flag=True, help="Only the cryptographic hashes.")
@common
def hash_cmd(obj: Context, paths: tuple[str, ...], no_perceptual: bool) -> None:
    """Print one JSON line per file: path, size, md5, sha1, sha256, pdq, pdq_quality, media_type."""
    from vigil.hashing import hash_file
    from vigil.media import DecodeLimits
    from vigil.scan.walker import Item, walk

    limits = DecodeLimits(obj.settings.max_image_pixels, obj.settings.decode_size)
    failures = 0
    for found in walk(list(paths)):
        if not isinstance(found, Item):
            failures += 1
            click.echo(json.dumps({"path": found.path, "error": found.reason}))
            continue
        record: dict[str, Any] = {"path": found.path}
        try:
            h = hash_file(found.fs_path, limits, perceptual=not no_perceptual)
        except OSError as exc:
            failures += 1
            record["error"] = f"cannot read file: {exc.strerror or exc}"
            click.echo(json.dumps(record))
            continue
        record.update(h.as_fields())
        if h.error:
            failures += 1
            record["error"] = h.error
        click.echo(json.dumps(record))
    if failures:
        raise click.ClickException(f"{failures} of the paths could not be fully hashed (see their 'error')")


@main.command("scan")
@click.argument("evidence", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder."
)
@click.option(
    "--workers", type=click.IntRange(min=0), default=None, help="Hashing processes (default: one per core)."
)
@click.option("--resume", is_flag=True, help="Continue an interrupted scan in the same --out.")
@click.option("--case", default=None, help="Case name to file the scan under.")
@click.option("--no-perceptual", is_flag=True, help="Cryptographic hashes only; do not decode images.")
@click.option("--no-thumbnails", is_flag=True, help="Leave thumbnails out of report.html.")
@common
def scan_cmd(
    obj: Context,
    evidence: tuple[str, ...],
    out: Path,
    workers: int | None,
    resume: bool,
    case: str | None,
    no_perceptual: bool,
    no_thumbnails: bool,
) -> None:
    """Scan evidence read-only; write items.jsonl, summary.json, report.csv and report.html to --out."""
    from vigil.report import write_reports
    from vigil.scan import ScanOptions, run_scan

    s = obj.settings
    chosen: dict[str, Any] = {"workers": workers} if workers is not None else {}
    options = ScanOptions.from_settings(
        s,
        list(evidence),
        out,
        perceptual=not no_perceptual,
        resume=resume,
        case=case,
        progress=None if obj.verbosity >= 0 else False,
        **chosen,
    )
    with obj.store() as store:
        summary = run_scan(store, options)
    write_reports(out, thumbnails=s.thumbnails and not no_thumbnails, max_pixels=s.max_image_pixels)
    if obj.as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    v = summary["verdicts"]
    obj.say(
        f"{summary['counts']['items']} items: {v['known']} known, {v['similar']} similar, "
        f"{v['known_good']} known-good, {v['unknown']} unknown, {v['error']} errors"
    )
    click.echo(str(out.resolve() / "report.html"))


@main.command("demo")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("vigil-demo"),
    help="Demo folder.",
)
@common
def demo_cmd(obj: Context, out: Path) -> None:
    """Build a benign store and evidence, scan it, and print where the report is."""
    from vigil.demo import run_demo

    result = run_demo(out, obj.settings, obj.db_given, say=obj.say)
    if obj.as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(result["report"])


from vigil.cli_admin import audit_group, user_group  # noqa: E402  (they import `common` from here)
from vigil.cli_hma import hma  # noqa: E402

main.add_command(user_group)
main.add_command(audit_group)
main.add_command(hma)


def run() -> None:  # pragma: no cover - console entry
    main(prog_name="vigil")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
