"""File names that are not valid UTF-8 (a Latin-1 folder, a tar member named in Latin-1): the scan goes
on, and items.jsonl carries each such name losslessly — its display form (``\\xNN`` for each undecodable
byte) in `path` and its raw bytes in `path_b64` — through reports, summary, store and --resume."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from PIL import Image

from vigil.core import names
from vigil.core.records import ItemRecord

BAD = b"bad\xff.txt"
MEMBER = b"caf\xe9.png"  # café.png in Latin-1


def vigil(db: Path, *args: str | bytes) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess (the env's PYTHONPATH points it at these sources)."""
    cmd: list[str | bytes] = [sys.executable, "-m", "vigil", "--db", str(db), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.fixture
def case(tmp_path: Path) -> dict:
    ev = tmp_path / "ev"
    ev.mkdir()
    bad = os.fsdecode(os.fsencode(ev) + b"/" + BAD)
    Path(bad).write_bytes(b"a file whose name is not UTF-8\n")
    (ev / "ok.txt").write_bytes(b"a known file with a plain name\n")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT, encoding="latin-1") as tf:
        png = io.BytesIO()
        Image.new("RGB", (64, 48), (20, 120, 200)).save(png, "PNG")  # a plain benign picture
        data = png.getvalue()
        info = tarfile.TarInfo("caf\xe9.png")  # written as the bytes caf\xe9.png
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    assert MEMBER in buf.getvalue()
    (ev / "pack.tar").write_bytes(buf.getvalue())
    db = tmp_path / "s.db"
    known = [b"a file whose name is not UTF-8\n", b"a known file with a plain name\n", data]
    rows = ["sha256,category"] + [f"{hashlib.sha256(k).hexdigest()},B" for k in known]
    (tmp_path / "known.csv").write_text("\n".join(rows) + "\n")
    done = vigil(db, "import", str(tmp_path / "known.csv"), "--format", "csv")
    assert done.returncode == 0, done.stderr
    return {"ev": ev, "db": db, "tmp": tmp_path}


def lines(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "items.jsonl").read_text(encoding="utf-8").splitlines()]


def test_names_that_are_not_utf8_are_scanned_and_kept_losslessly(case: dict) -> None:
    ev, db, out = case["ev"], case["db"], case["tmp"] / "out"
    done = vigil(db, "scan", str(ev), "--out", str(out), "--workers", "1")
    assert done.returncode == 0, done.stderr
    got = {r["path"]: r for r in lines(out)}
    bad_path, member_path = f"{ev}/bad\\xff.txt", f"{ev}/pack.tar!/caf\\xe9.png"
    assert set(got) == {bad_path, member_path, f"{ev}/ok.txt", f"{ev}/pack.tar"}
    assert all(r["status"] == "ok" for r in got.values())
    assert got[bad_path]["path_b64"] == b64(os.fsencode(ev) + b"/" + BAD)
    assert got[member_path]["path_b64"] == b64(os.fsencode(ev) + b"/pack.tar!/" + MEMBER)
    assert "path_b64" not in got[f"{ev}/ok.txt"] and "path_b64" not in got[f"{ev}/pack.tar"]
    assert {r["path"] for r in got.values() if r["verdict"] == "known"} == {
        bad_path,
        member_path,
        f"{ev}/ok.txt",
    }
    # The record read back is the name exactly as the walker gives it.
    assert ItemRecord.from_json(got[bad_path]).path == os.fsdecode(os.fsencode(ev) + b"/" + BAD)
    assert not (out / ".spill").exists()
    for report in ("report.csv", "report.html"):
        text = (out / report).read_text(encoding="utf-8")
        assert "bad\\xff.txt" in text and "caf\\xe9.png" in text
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["counts"]["items"] == 4 and summary["counts"]["errors"] == 0
    with sqlite3.connect(db) as con:
        stored = {p for (p,) in con.execute("SELECT path FROM scan_item")}
    assert stored == set(got)  # the store holds the display form
    hotline = case["tmp"] / "hotline"
    done = vigil(
        db, "hotline", str(out), "--out", str(hotline), "--reporter-name", "R", "--reporter-email", "r@x.org"
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((hotline / "report.json").read_text(encoding="utf-8"))
    assert {f["location"] for f in report["fileDetails"]} == {bad_path, member_path, f"{ev}/ok.txt"}


def test_the_evidence_hash_is_over_the_raw_bytes_of_the_names(case: dict) -> None:
    ev, db, out = case["ev"], case["db"], case["tmp"] / "out"
    assert vigil(db, "scan", str(ev), "--out", str(out), "--workers", "1").returncode == 0
    manifest = sorted(
        f"{r['sha256']}  ".encode()
        + (base64.b64decode(r["path_b64"]) if "path_b64" in r else r["path"].encode())
        for r in lines(out)
    )
    row = json.loads((out / "summary.json").read_text())["evidence"][0]
    assert row["path"] == str(ev) and row["sha256"] == hashlib.sha256(b"\n".join(manifest)).hexdigest()


def test_resume_matches_names_that_are_not_utf8(case: dict) -> None:
    ev, db, tmp = case["ev"], case["db"], case["tmp"]
    full, cut = tmp / "full", tmp / "cut"
    assert vigil(db, "scan", str(ev), "--out", str(full), "--workers", "1").returncode == 0
    records = lines(full)
    # Killed after the bad-named file and the tar's member were written, before the tar's own record.
    kept = [r for r in records if "path_b64" in r or r["path"].endswith("ok.txt")]
    assert len(kept) == 3
    cut.mkdir()
    (cut / "items.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept))
    done = vigil(db, "scan", str(ev), "--out", str(cut), "--workers", "1", "--resume")
    assert done.returncode == 0, done.stderr
    resumed = lines(cut)
    paths = [r["path"] for r in resumed]
    assert len(paths) == len(set(paths)), "an item appears twice after resuming"
    assert sorted(paths) == sorted(r["path"] for r in records)
    # The bad-named file was not done again (its record is the one kept); the tar's member, whose tar
    # had no record yet, was dropped and done again with the tar.
    survivors = [r for r in kept if "pack.tar!" not in r["path"]]
    assert len(survivors) == 2 and resumed[:2] == survivors
    assert not (cut / ".spill").exists()


def test_vigil_hash_prints_the_display_form(case: dict) -> None:
    ev, db = case["ev"], case["db"]
    done = vigil(db, "hash", "--no-perceptual", os.fsencode(ev) + b"/" + BAD)
    assert done.returncode == 0, done.stderr
    rec = json.loads(done.stdout)
    assert rec["path"] == f"{ev}/bad\\xff.txt" and rec["path_b64"] == b64(os.fsencode(ev) + b"/" + BAD)


@pytest.mark.parametrize(
    ("name", "shown"),
    [("plain/é.jpg", "plain/é.jpg"), ("a/\udcff\udce9b", "a/\\xff\\xe9b"), ("lit\\xff", "lit\\xff")],
)
def test_display_form_and_back(name: str, shown: str) -> None:
    fields = names.to_fields(name)
    assert fields["path"] == shown
    assert ("path_b64" in fields) == (name != shown)
    assert names.from_fields(fields) == name
    rec = ItemRecord(path=name, size=1, status="ok", verdict="unknown")
    line = json.dumps(rec.as_json(), ensure_ascii=False).encode("utf-8")  # always valid UTF-8
    assert ItemRecord.from_json(json.loads(line)).path == name


def test_an_evidence_folder_whose_own_name_is_not_utf8(tmp_path: Path) -> None:
    root = os.fsencode(tmp_path) + b"/d\xfe"
    os.mkdir(root)
    Path(os.fsdecode(root + b"/ok.txt")).write_bytes(b"plain\n")
    done = vigil(tmp_path / "s.db", "scan", root, "--out", str(tmp_path / "out"), "--workers", "1")
    assert done.returncode == 0, done.stderr
    (rec,) = lines(tmp_path / "out")
    assert rec["path"] == f"{tmp_path}/d\\xfe/ok.txt" and rec["path_b64"] == b64(root + b"/ok.txt")
    (row,) = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))["evidence"]
    assert row["path"] == f"{tmp_path}/d\\xfe" and row["path_b64"] == b64(root) and row["files"] == 1
