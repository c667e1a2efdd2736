"""`vigil hash`, `vigil scan`, `vigil hotline` and `vigil demo`: hashing and triage of evidence, and what is
made from a scan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from vigil.cli.context import Context, common


@click.command("hash")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--no-perceptual", is_flag=True, help="Only the cryptographic hashes.")
@common
def hash_cmd(obj: Context, paths: tuple[str, ...], no_perceptual: bool) -> None:
    """Print one JSON line per file: path, size, md5, sha1, sha256, pdq, pdq_quality, media_type."""
    from vigil.core import names
    from vigil.hashing import hash_file
    from vigil.media import DecodeLimits
    from vigil.scan.walker import Item, walk

    limits = DecodeLimits(obj.settings.max_image_pixels, obj.settings.decode_size)
    failures = 0
    for found in walk(list(paths)):
        if not isinstance(found, Item):
            failures += 1
            click.echo(json.dumps({**names.to_fields(found.path), "error": names.display(found.reason)}))
            continue
        record: dict[str, Any] = names.to_fields(found.path)  # display form (+ path_b64 if not UTF-8)
        try:
            h = hash_file(found.fs_path, limits, perceptual=not no_perceptual)
        except OSError as exc:
            failures += 1
            record["error"] = names.display(f"cannot read file: {exc.strerror or exc}")
            click.echo(json.dumps(record))
            continue
        record.update(h.as_fields())
        if h.error:
            failures += 1
            record["error"] = h.error
        click.echo(json.dumps(record))
    if failures:
        raise click.ClickException(f"{failures} of the paths could not be fully hashed (see their 'error')")


@click.command("scan")
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

    def lines() -> None:
        v = summary["verdicts"]
        obj.say(
            f"{summary['counts']['items']} items: {v['known']} known, {v['similar']} similar, "
            f"{v['known_good']} known-good, {v['unknown']} unknown, {v['error']} errors"
        )
        click.echo(str(out.resolve() / "report.html"))

    obj.emit(summary, lines)


@click.command("hotline")
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
    reported = len(report["fileDetails"])
    obj.emit(
        {"files": [str(p) for p in paths], "reported": reported},
        f"{reported} matched files reported in {out}",
        indent=None,
    )


@click.command("demo")
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
    obj.emit(result, lambda: click.echo(result["report"]))
