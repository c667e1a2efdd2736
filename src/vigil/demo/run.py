"""`vigil demo`: build a benign store and evidence folder, scan it, and measure what the scan found.

Layout of the demo folder (`out`):

    .vigil-demo          marker: this folder is a demo and `vigil demo` may wipe and rebuild it
    vigil-demo.db        the store (unless --db names another)
    corpus/              the source pictures; about half are "known" (their hashes are in the store)
    known-good/          files a known-good list covers
    hashsets/            known.csv (the agency's hash set), known-good.md5 (the known-good list)
    evidence/            what is scanned: copies, transformed copies, unrelated and damaged files
    ground-truth.json    which evidence file derives from which entry, and how
    scan/                the scan's items.jsonl, summary.json (with "recall"), report.csv, report.html
"""

from __future__ import annotations

import csv
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from vigil import exchange
from vigil.config import Settings
from vigil.core.errors import VigilError
from vigil.hashing import hash_file
from vigil.media import DecodeLimits
from vigil.report import write_reports
from vigil.scan import journal
from vigil.scan.runner import ScanOptions, run_scan
from vigil.store import Store
from vigil.store.bulk import lookup_signal_owners
from vigil.store.ingest import import_records

from . import evidence as ev
from .corpus import Corpus, Picture, build_corpus
from .recall import measure, table

MARKER = ".vigil-demo"
SEED = 20240601
SAMPLES = 12  # scikit-image samples (all that show no people, up to this many)
GENERATED = 28
EXTRAS = 3  # two known-good pictures and the source of the truncated JPEG
DUPLICATES = 3  # known pictures copied into the evidence twice
AGENCY = "demo-agency"
KNOWN_GOOD_SOURCE = "demo-known-good"
CATEGORIES = "ABCIXPN"  # just data: the demo's pictures are all benign
SERIES = ("demo-series-1", "demo-series-2", "demo-series-3", None)
CSV_COLUMNS = (
    "md5",
    "sha1",
    "sha256",
    "pdq",
    "pdq_quality",
    "category",
    "series",
    "victim_identified",
    "source",
    "notes",
)


def run_demo(out: Path, settings: Settings, db_given: bool, say: Callable[[str], None]) -> dict[str, Any]:
    """Build the demo in `out` (refusing a folder that is not a previous demo), scan it, report recall.
    The store is the one `settings` name when `db_given`, else a new one inside `out`."""
    started = time.monotonic()
    out = prepare_folder(out)
    limits = DecodeLimits(settings.max_image_pixels, settings.decode_size)
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.monotonic()
        timings[name] = round(now - since, 2)
        return now

    say(f"building benign demo pictures in {out / 'corpus'} ...")
    t = time.monotonic()
    corpus = build_corpus(
        out / "corpus", limits, samples=SAMPLES, generated=GENERATED, extras=EXTRAS, seed=SEED
    )
    known, unrelated = split(corpus.pictures)
    good_files = ev.known_good_files(out / "known-good", corpus.extras[:2], SEED)
    t = lap("pictures_s", t)

    store_url = settings.db if db_given else str(out / "vigil-demo.db")
    with Store(store_url, settings=settings) as store:
        ids, good_ids, imported = import_hash_sets(store, out / "hashsets", known, good_files)
        t = lap("import_s", t)

        root = out / "evidence"
        truth = ev.exact_copies(root, known, ids, DUPLICATES)
        truth += ev.transformed_copies(root, known, ids)
        truth += ev.unrelated_copies(root, unrelated)
        truth += ev.known_good_copies(root, good_files, good_ids)
        truth += ev.other_files(root, SEED)
        truth += ev.damaged_files(root, corpus.extras[2])
        rows = ev.truth_rows(truth)
        write_ground_truth(out / "ground-truth.json", root, corpus, known, ids, good_ids, rows)
        t = lap("evidence_s", t)

        say(f"scanning {len(rows)} evidence files in {root} ...")
        scan_out = out / "scan"
        options = ScanOptions(
            evidence=[str(root)],
            out=scan_out,
            workers=settings.workers,
            limits=limits,
            pdq_threshold=settings.pdq_threshold,
            pdq_min_quality=settings.pdq_min_quality,
        )
        summary = run_scan(store, options)
        t = lap("scan_s", t)

        recall = measure((r.as_json() for r in journal.read(scan_out / "items.jsonl")), rows, str(root))
        summary["recall"] = recall
        journal.write_json_atomic(scan_out / "summary.json", summary)
        write_reports(scan_out, thumbnails=settings.thumbnails, max_pixels=limits.max_pixels)
        lap("recall_and_reports_s", t)
    timings["total_s"] = round(time.monotonic() - started, 2)

    say(screen(corpus, known, unrelated, imported, rows, summary, recall, timings))
    return {
        "report": str(scan_out / "report.html"),
        "summary": str(scan_out / "summary.json"),
        "out": str(out),
        "recall": recall,
        "timings": timings,
    }


def prepare_folder(out: Path) -> Path:
    """An empty demo folder at `out`: a previous demo there is wiped; anything else there is refused."""
    out = out.expanduser().absolute()
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise VigilError(f"{out} exists and is not a folder; choose another --out")
        if (out / MARKER).is_file():
            for child in sorted(out.iterdir()):
                if child.name == MARKER:
                    continue
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        elif any(out.iterdir()):
            raise VigilError(
                f"{out} exists and is not a vigil demo folder (it has no {MARKER} file); "
                "nothing was changed: choose another --out, or an empty or new folder"
            )
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text(
        "This folder was made by `vigil demo`, which deletes and rebuilds everything in it.\n",
        encoding="utf-8",
    )
    return out.resolve()


def split(pictures: list[Picture]) -> tuple[list[Picture], list[Picture]]:
    """A seeded half of the pictures becomes the known set; the rest stay unrelated."""
    order = np.random.default_rng(SEED).permutation(len(pictures))
    half = len(pictures) // 2
    known = [pictures[i] for i in sorted(order[:half])]
    unrelated = [pictures[i] for i in sorted(order[half:])]
    return known, unrelated


def grading(index: int) -> tuple[str, str | None, bool]:
    """Category, series and victim-identified flag of the index-th known picture (labels only)."""
    return CATEGORIES[index % len(CATEGORIES)], SERIES[index % len(SERIES)], index % 3 == 0


def import_hash_sets(
    store: Store, folder: Path, known: list[Picture], good_files: list[Path]
) -> tuple[dict[str, int], dict[str, int], dict[str, Any]]:
    """Write the agency's CSV hash set and the known-good list, import both through the normal import
    path in one transaction, and return the entry id of each known picture and known-good file."""
    folder.mkdir(parents=True, exist_ok=True)
    known_csv = folder / "known.csv"
    with open(known_csv, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for i, pic in enumerate(known):
            category, series, victim = grading(i)
            d, pdq = pic.hashes.digests, pic.hashes.image["pdq"]
            writer.writerow(
                (
                    *(d["md5"].hex(), d["sha1"].hex(), d["sha256"].hex(), pdq.value.hex(), pdq.quality),
                    *(category, series or "", "true" if victim else "false", AGENCY),
                    f"benign demo picture ({pic.origin}: {pic.kind})",
                )
            )

    good_md5 = {
        p.name: hash_file(str(p), DecodeLimits(), perceptual=False).digests["md5"] for p in good_files
    }
    if "md5sum" in exchange.names(readable=True):
        good_list, good_format = folder / "known-good.md5", "md5sum"
        good_list.write_text("".join(f"{v.hex()}  {n}\n" for n, v in good_md5.items()), encoding="utf-8")
    else:  # older vigil without checksum lists: the same hashes as CSV, category G
        good_list, good_format = folder / "known-good.csv", "csv"
        good_list.write_text(
            "md5,category,notes\n" + "".join(f"{v.hex()},G,{n}\n" for n, v in good_md5.items()),
            encoding="utf-8",
        )

    with store.transaction() as session:
        stats = import_records(
            session, exchange.iter_file(known_csv, exchange.get("csv")), file=str(known_csv), source=AGENCY
        )
        good_stats = import_records(
            session,
            exchange.iter_file(good_list, exchange.get(good_format)),
            file=str(good_list),
            source=KNOWN_GOOD_SOURCE,
            known_good=True,
        )
        conn = session.connection()
        by_sha = lookup_signal_owners(conn, "sha256", [p.hashes.digests["sha256"] for p in known])
        by_md5 = lookup_signal_owners(conn, "md5", list(good_md5.values()))
    ids = {p.name: by_sha[p.hashes.digests["sha256"]] for p in known}
    good_ids = {name: by_md5[value] for name, value in good_md5.items()}
    imported = {
        "known": {"file": str(known_csv), "format": "csv", **stats.as_dict()},
        "known_good": {"file": str(good_list), "format": good_format, **good_stats.as_dict()},
    }
    return ids, good_ids, imported


def write_ground_truth(
    path: Path,
    root: Path,
    corpus: Corpus,
    known: list[Picture],
    ids: dict[str, int],
    good_ids: dict[str, int],
    rows: list[dict[str, object]],
) -> None:
    known_names = {p.name for p in known}
    pictures = [
        {
            "name": p.name,
            "origin": p.origin,
            "kind": p.kind,
            "file": p.path.relative_to(path.parent).as_posix(),
            "width": p.size[0],
            "height": p.size[1],
            "pdq": p.pdq.hex(),
            "pdq_quality": p.quality,
            "known": p.name in known_names,
            "entry_id": ids.get(p.name),
        }
        for p in corpus.pictures
    ]
    journal.write_json_atomic(
        path,
        {
            "evidence_root": str(root),
            "seed": SEED,
            "pictures": pictures,
            "known_good_entries": good_ids,
            "dropped_candidates": corpus.dropped,
            "files": rows,
        },
    )


def screen(
    corpus: Corpus,
    known: list[Picture],
    unrelated: list[Picture],
    imported: dict[str, Any],
    rows: list[dict[str, object]],
    summary: dict[str, Any],
    recall: dict[str, Any],
    timings: dict[str, float],
) -> str:
    """One screen of text: what was built, what the scan said, how much it found, how long it took."""
    samples = sum(p.origin == "scikit-image" for p in corpus.pictures)
    v = summary["verdicts"]
    order = ["exact", *ev.TRANSFORMS, "unrelated", "known_good", "other", "truncated", "empty"]
    kinds = dict.fromkeys(order, 0)
    for row in rows:
        kinds[str(row["kind"])] = kinds.get(str(row["kind"]), 0) + 1
    spent = timings.items()
    lines = [
        f"pictures: {len(corpus.pictures)} ({len(corpus.pictures) - samples} generated, {samples} "
        f"scikit-image samples); {len(known)} known, {len(unrelated)} unrelated",
        f"store:    {summary['store']['url']}: {imported['known']['records']} known hashes from {AGENCY}, "
        f"{imported['known_good']['records']} known-good ({imported['known_good']['format']})",
        f"evidence: {len(rows)} files: " + ", ".join(f"{n} {k}" for k, n in kinds.items()),
        f"scan:     {summary['counts']['items']} items: {v['known']} known, {v['similar']} similar, "
        f"{v['known_good']} known-good, {v['unknown']} unknown, {v['error']} errors",
        "recall:",
        *table(recall),
        "timings:  " + ", ".join(f"{k.removesuffix('_s').replace('_', ' ')} {s:.1f} s" for k, s in spent),
    ]
    return "\n".join(lines)
