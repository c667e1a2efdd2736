"""Hotline report bundles from a real scan: only matches, inside containers too, files checkable."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import text

from tests.imagegen import render_image
from vigil.cli import main
from vigil.store import Store


def run(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", str(db), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def png(seed: int) -> bytes:
    buf = io.BytesIO()
    render_image("shapes", seed, (160, 120)).save(buf, format="PNG")
    return buf.getvalue()


def test_scan_matches_become_a_hotline_bundle(tmp_path: Path) -> None:
    db, ev = tmp_path / "s.db", tmp_path / "ev"
    ev.mkdir()
    known, inner, other = png(1), png(2), png(3)
    (tmp_path / "k.csv").write_text(
        "sha256,category,series\n"
        f"{hashlib.sha256(known).hexdigest()},A,s-1\n{hashlib.sha256(inner).hexdigest()},C,\n"
    )
    assert run(db, "import", str(tmp_path / "k.csv"), "--format", "csv")[0] == 0
    (ev / "a.png").write_bytes(known)
    (ev / "b.png").write_bytes(other)
    pack = io.BytesIO()
    with zipfile.ZipFile(pack, "w") as zf:
        zf.writestr("dir/inner.png", inner)
    (ev / "pack.zip").write_bytes(pack.getvalue())
    assert run(db, "scan", str(ev), "--out", str(tmp_path / "scan"), "--workers", "1")[0] == 0

    out = tmp_path / "hotline"
    args = ["hotline", str(tmp_path / "scan"), "--out", str(out), "--reporter-name", "Analyst One"]
    code, stdout, err = run(db, "--json", *args, "--reporter-email", "analyst@example.org")
    assert code == 0, err
    assert json.loads(stdout)["reported"] == 2
    report = json.loads((out / "report.json").read_text())
    assert report["reporter"]["reportingPerson"] == {
        "name": "Analyst One",
        "email": "analyst@example.org",
        "phone": None,
    }
    assert report["incidentSummary"]["incidentDateTime"]
    files = {f["fileName"]: f for f in report["fileDetails"]}
    assert set(files) == {"a.png", "inner.png"}  # the unknown b.png is not reported
    a = files["a.png"]
    assert (
        a["category"] == "A" and a["categoryVics"] == 1 and a["series"] == "s-1" and a["matchType"] == "exact"
    )
    assert a["hashes"]["sha256"] == hashlib.sha256(known).hexdigest() and a["location"] == str(ev / "a.png")
    assert files["inner.png"]["location"] == str(ev / "pack.zip!/dir/inner.png")
    rows = list(csv.DictReader((out / "files.csv").open()))
    assert {r["fileName"] for r in rows} == {"a.png", "inner.png"}
    sums = dict(line.split("  ")[::-1] for line in (out / "SHA256SUMS").read_text().splitlines())
    for name in ("report.json", "files.csv"):
        assert sums[name] == hashlib.sha256((out / name).read_bytes()).hexdigest()
    code, _, err = run(db, *args, "--reporter-email", "analyst@example.org")
    assert code == 1 and "already holds a hotline report" in err
    code, _, err = run(db, *args[:3], str(tmp_path / "h2"), *args[4:], "--reporter-email", "nobody")
    assert code == 1 and "not an e-mail address" in err
    code, _, err = run(
        db,
        "hotline",
        str(ev),
        "--out",
        str(tmp_path / "h3"),
        "--reporter-name",
        "x",
        "--reporter-email",
        "a@b.c",
    )
    assert code == 1 and "not a finished scan" in err


def test_hotline_files_csv_quotes_formulas(tmp_path: Path) -> None:
    from tests.report.scanfolder import item, match, summary, write_scan
    from vigil.report import hotline

    hostile = [
        '=HYPERLINK("evil.example")',
        "+SUM(1)",
        "-2+3",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
        "=cmd|' -C calc'!A0",
    ]
    items = [item(f"{h}.jpg", "known", [match(series=h)]) for h in hostile]
    items.append(item("/safe/=inside.jpg", "known", [match(series="orchard")]))
    write_scan(tmp_path / "scan", items, summary())
    report = hotline.build(tmp_path / "scan", reporter_name="Analyst", reporter_email="a@example.org")
    hotline.write(report, tmp_path / "out")
    with open(tmp_path / "out" / "files.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["fileName"] for r in rows[:-1]] == [f"'{h}.jpg" for h in hostile]
    assert [r["location"] for r in rows[:-1]] == [f"'{h}.jpg" for h in hostile]
    assert [r["series"] for r in rows[:-1]] == [f"'{h}" for h in hostile]
    last = rows[-1]  # the file name alone starts with `=`; the location does not
    assert (last["fileName"], last["location"], last["series"]) == (
        "'=inside.jpg",
        "/safe/=inside.jpg",
        "orchard",
    )
    assert (last["fileSize"], last["deleted"]) == ("1000", "false")


def test_a_category_outside_the_vocabulary_in_the_store_never_breaks_scan_export_or_hotline(
    tmp_path: Path,
) -> None:
    """A store written by hand (or by an older vigil) holding categories no importer accepts: the matcher
    ranks them last, exporters and the hotline bundle treat them as ungraded, nothing raises."""
    db, ev = tmp_path / "s.db", tmp_path / "ev"
    ev.mkdir()
    picture = png(4)
    md5, sha256 = hashlib.md5(picture).hexdigest(), hashlib.sha256(picture).hexdigest()
    # Two entries for the same file (one by sha256, one by md5): the file's matches must be ranked.
    (tmp_path / "k.csv").write_text(f"md5,sha256,category\n,{sha256},A\n{md5},,B\n")
    assert run(db, "import", str(tmp_path / "k.csv"), "--format", "csv")[0] == 0
    with Store(str(db)) as store, store.transaction() as session:
        session.execute(text("UPDATE entry SET category = 'Q' WHERE category = 'A'"))
        session.execute(text("UPDATE entry SET category = 'zz' WHERE category = 'B'"))
        session.execute(text("UPDATE assessment SET category = 'Q'"))
    (ev / "a.png").write_bytes(picture)
    code, _, err = run(db, "scan", str(ev), "--out", str(tmp_path / "scan"), "--workers", "1")
    assert code == 0, err
    item = json.loads((tmp_path / "scan" / "items.jsonl").read_text().splitlines()[0])
    assert item["verdict"] == "known" and {m["category"] for m in item["matches"]} == {"Q", "zz"}

    assert run(db, "export", str(tmp_path / "out.json"), "--format", "vics")[0] == 0
    media = json.loads((tmp_path / "out.json").read_text())["value"]
    assert [("Category" in m, m["IsPrecategorized"]) for m in media] == [(False, False)]  # the md5 entry
    assert run(db, "export", str(tmp_path / "out.csv"), "--format", "csv")[0] == 0
    assert {r["category"] for r in csv.DictReader((tmp_path / "out.csv").open())} == {""}
    assert run(db, "export", str(tmp_path / "out.md5"), "--format", "md5sum")[0] == 0
    assert "vigil/ungraded/" in (tmp_path / "out.md5").read_text()

    out = tmp_path / "hotline"
    args = ["--reporter-name", "Analyst One", "--reporter-email", "analyst@example.org"]
    code, _, err = run(db, "hotline", str(tmp_path / "scan"), "--out", str(out), *args)
    assert code == 0, err
    (detail,) = json.loads((out / "report.json").read_text())["fileDetails"]
    assert detail["categoryVics"] is None and detail["category"] in ("Q", "zz")


def test_blank_lines_in_items_jsonl_are_skipped(tmp_path: Path) -> None:
    db, ev = tmp_path / "s.db", tmp_path / "ev"
    ev.mkdir()
    known = png(5)
    (tmp_path / "k.csv").write_text(f"sha256,category\n{hashlib.sha256(known).hexdigest()},C\n")
    assert run(db, "import", str(tmp_path / "k.csv"), "--format", "csv")[0] == 0
    (ev / "a.png").write_bytes(known)
    (ev / "b.png").write_bytes(png(6))
    assert run(db, "scan", str(ev), "--out", str(tmp_path / "scan"), "--workers", "1")[0] == 0
    items = tmp_path / "scan" / "items.jsonl"
    items.write_text("\n" + "\n\n".join(items.read_text().splitlines()) + "\n\n   \n")
    args = ["--reporter-name", "Analyst One", "--reporter-email", "analyst@example.org"]
    code, out, err = run(db, "--json", "hotline", str(tmp_path / "scan"), "--out", str(tmp_path / "h"), *args)
    assert code == 0, err
    assert json.loads(out)["reported"] == 1
    items.write_text(items.read_text() + "[1,\n")
    code, _, err = run(db, "hotline", str(tmp_path / "scan"), "--out", str(tmp_path / "h2"), *args)
    assert code == 1 and "items.jsonl" in err and len(err.strip().splitlines()) == 1, err
