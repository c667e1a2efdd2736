"""`vigil scan` over folders: verdicts, outputs, bad input, evidence integrity, resume."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image, ImageOps

from tests.imagegen import render_image
from vigil.cli import main
from vigil.match.matcher import Matcher
from vigil.media import DecodeLimits
from vigil.scan.walker import Item
from vigil.scan.worker import WorkerConfig, process_with
from vigil.store import Store

ITEM_KEYS = {
    "path",
    "size",
    "md5",
    "sha1",
    "sha256",
    "pdq",
    "pdq_quality",
    "vpdq",
    "media_type",
    "deleted",
    "status",
    "error",
    "verdict",
    "matches",
}
MATCH_KEYS = {"signal", "distance", "entry_id", "category", "series", "source"}


def picture(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    return render_image("shapes", seed, size)


def run(args: list[str], db: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", str(db), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def items(out: Path) -> dict[str, dict]:
    lines = (out / "items.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    by_path = {os.path.basename(r["path"]): r for r in records}
    assert len(by_path) == len(records), "a path was reported twice"
    return by_path


def file_state(root: Path) -> dict[str, tuple[str, int, int]]:
    state = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink():
            st = p.stat()
            state[str(p)] = (hashlib.sha256(p.read_bytes()).hexdigest(), st.st_mtime_ns, st.st_mode)
    return state


@pytest.fixture
def case(tmp_path: Path) -> dict:
    """A store knowing three pictures (exact + PDQ) and known-good files; evidence with copies, oddities."""
    ev = tmp_path / "evidence"
    (ev / "sub" / "deeper").mkdir(parents=True)
    originals = tmp_path / "originals"
    originals.mkdir()
    known = [picture(s) for s in (1, 2, 3)]
    for i, img in enumerate(known):
        img.save(originals / f"k{i}.jpg", quality=92)
    shutil.copy(originals / "k0.jpg", ev / "exact0.jpg")
    shutil.copy(originals / "k1.jpg", ev / "sub" / "renamed.bin")
    known[0].resize((320, 240)).save(ev / "sub" / "resized0.jpg", quality=90)
    ImageOps.mirror(known[1]).save(ev / "sub" / "deeper" / "flipped1.png")
    known[2].rotate(90, expand=True).save(ev / "rotated2.jpg", quality=85)
    known[2].save(ev / "reencoded2.jpg", quality=50)
    picture(99).save(ev / "unrelated.jpg")
    picture(98).save(ev / "unrelated.png")
    (ev / "goodfile.txt").write_bytes(b"a harmless known-good file\n" * 100)
    good_pic = picture(50)
    good_pic.save(ev / "goodpic.jpg")
    (ev / "empty.dat").write_bytes(b"")
    data = (originals / "k0.jpg").read_bytes()
    (ev / "truncated.jpg").write_bytes(data[: len(data) // 3])
    Image.new("RGB", (1, 1), (200, 10, 10)).save(ev / "tiny.png")
    Image.new("1", (20000, 20000)).save(ev / "huge.png")
    (ev / "garbage.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(3000))
    (tmp_path / "outside.jpg").write_bytes(data)
    os.symlink(tmp_path / "outside.jpg", ev / "link-out.jpg")
    os.symlink(ev / "exact0.jpg", ev / "link-in.jpg")
    os.mkfifo(ev / "pipe")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(ev / "sock"))

    db = tmp_path / "store.db"
    code, out, _ = run(["hash", *(str(originals / f"k{i}.jpg") for i in range(3))], db)
    assert code == 0
    hashed = [json.loads(line) for line in out.splitlines()]
    rows = ["md5,sha1,sha256,pdq,pdq_quality,category,series,source"]
    for h, cat in zip(hashed, "ABC", strict=True):
        rows.append(
            f"{h['md5']},{h['sha1']},{h['sha256']},{h['pdq']},{h['pdq_quality']},{cat},series-1,agency"
        )
    (tmp_path / "known.csv").write_text("\n".join(rows) + "\n")
    assert run(["import", str(tmp_path / "known.csv"), "--format", "csv"], db)[0] == 0
    good = [hashlib.sha256((ev / n).read_bytes()).hexdigest() for n in ("goodfile.txt", "goodpic.jpg")]
    (tmp_path / "good.csv").write_text("sha256\n" + "\n".join(good) + "\n")
    assert run(["import", str(tmp_path / "good.csv"), "--format", "csv", "--known-good"], db)[0] == 0
    yield {"ev": ev, "db": db, "tmp": tmp_path, "hashed": hashed}
    sock.close()


def entry_ids(db: Path) -> dict[str, int]:
    from vigil.store import queries

    with Store(str(db)) as store, store.session() as s:
        return {r.hashes["md5"].hex(): r.entry_id for r in queries.iter_export(s) if "md5" in r.hashes}


def test_scan_verdicts_outputs_and_evidence_untouched(case: dict) -> None:
    ev, db, tmp = case["ev"], case["db"], case["tmp"]
    before = file_state(tmp / "evidence")
    out = tmp / "out"
    code, stdout, stderr = run(["scan", str(ev), "--out", str(out), "--workers", "2"], db)
    assert code == 0, stderr
    assert stdout.strip() == str(out / "report.html")
    assert "scanning" not in stderr  # no progress bar when not a terminal
    assert file_state(tmp / "evidence") == before, "the scan changed the evidence"

    got = items(out)
    ids = entry_ids(db)
    k = [ids[h["md5"]] for h in case["hashed"]]
    for rec in got.values():
        assert set(rec) == ITEM_KEYS
        for m in rec["matches"]:
            assert set(m) == MATCH_KEYS

    def best(name: str) -> dict:
        return got[name]["matches"][0]

    assert got["exact0.jpg"]["verdict"] == "known" and best("exact0.jpg")["entry_id"] == k[0]
    assert best("exact0.jpg")["category"] == "A" and best("exact0.jpg")["series"] == "series-1"
    assert got["renamed.bin"]["verdict"] == "known" and best("renamed.bin")["entry_id"] == k[1]
    assert got["renamed.bin"]["media_type"] == "image/jpeg"  # content, not the name, decides
    for name, entry in (
        ("resized0.jpg", k[0]),
        ("flipped1.png", k[1]),
        ("rotated2.jpg", k[2]),
        ("reencoded2.jpg", k[2]),
    ):
        assert got[name]["verdict"] == "similar", name
        assert best(name)["signal"] == "pdq" and best(name)["entry_id"] == entry
        assert best(name)["distance"] <= 31
    for name in ("unrelated.jpg", "unrelated.png"):
        assert got[name]["verdict"] == "unknown" and got[name]["matches"] == []
        assert got[name]["pdq"] is not None and got[name]["pdq_quality"] >= 50
    # Known-good files are marked and never decoded.
    for name in ("goodfile.txt", "goodpic.jpg"):
        assert got[name]["verdict"] == "known_good"
    assert got["goodpic.jpg"]["pdq"] is None

    assert got["empty.dat"]["status"] == "ok" and got["empty.dat"]["size"] == 0
    assert got["empty.dat"]["md5"] == hashlib.md5(b"").hexdigest()
    assert got["truncated.jpg"]["status"] == "error" and "truncated" in got["truncated.jpg"]["error"]
    assert got["truncated.jpg"]["verdict"] == "error" and got["truncated.jpg"]["sha256"]
    assert got["tiny.png"]["status"] == "ok" and got["tiny.png"]["verdict"] == "unknown"
    assert got["huge.png"]["status"] == "error" and "too large" in got["huge.png"]["error"]
    assert got["garbage.png"]["status"] == "error" and got["garbage.png"]["error"].startswith("cannot decode")

    summary = json.loads((out / "summary.json").read_text())
    skipped = {os.path.basename(s["path"]): s["reason"] for s in summary["skipped"]}
    assert set(skipped) == {"link-out.jpg", "link-in.jpg", "pipe", "sock"}
    assert "symbolic link" in skipped["link-out.jpg"] and "FIFO" in skipped["pipe"]
    assert "outside.jpg" not in got
    assert summary["counts"]["items"] == len(got)
    assert summary["verdicts"] == {
        "known": 2,
        "similar": 4,
        "known_good": 2,
        "unknown": 4,
        "error": 3,
    }
    assert summary["categories"] == {"A": 2, "B": 2, "C": 2}
    assert summary["evidence"][0]["files"] == len(got)
    assert (out / "report.csv").exists() and (out / "report.html").exists()
    csv_rows = (out / "report.csv").read_text().splitlines()
    assert len(csv_rows) == 1 + 6


def test_exact_hash_of_a_corrupt_image_is_still_known(case: dict) -> None:
    ev, db, tmp = case["ev"], case["db"], case["tmp"]
    h = json.loads(run(["hash", "--no-perceptual", str(ev / "truncated.jpg")], db)[1])
    (tmp / "t.csv").write_text(f"sha1,category\n{h['sha1']},B\n")
    assert run(["import", str(tmp / "t.csv"), "--format", "csv"], db)[0] == 0
    out = tmp / "out"
    assert run(["scan", str(ev / "truncated.jpg"), "--out", str(out), "--workers", "1"], db)[0] == 0
    rec = items(out)["truncated.jpg"]
    assert rec["status"] == "error" and "truncated" in rec["error"]
    assert rec["verdict"] == "known" and rec["matches"][0]["category"] == "B"


def test_unreadable_file_is_an_error_item(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "s.db"))
    matcher = Matcher.from_store(store)
    config = WorkerConfig(DecodeLimits(), True)
    [gone] = process_with(Item("ev/gone.jpg", str(tmp_path / "gone.jpg"), 10), config, matcher)
    assert gone.status == "error" and gone.verdict == "error"
    assert gone.error is not None and "No such file" in gone.error
    (tmp_path / "adir").mkdir()
    [isdir] = process_with(Item("ev/adir", str(tmp_path / "adir"), 0), config, matcher)
    assert isdir.status == "error" and isdir.error is not None and "directory" in isdir.error.lower()


def test_workers_agree_and_scan_is_recorded_in_store(case: dict) -> None:
    ev, db, tmp = case["ev"], case["db"], case["tmp"]
    assert run(["scan", str(ev), "--out", str(tmp / "one"), "--workers", "1"], db)[0] == 0
    assert run(["scan", str(ev), "--out", str(tmp / "two"), "--workers", "2"], db)[0] == 0
    assert items(tmp / "one") == items(tmp / "two")
    from sqlalchemy import func, select

    from vigil.store.models import Scan, ScanItem

    with Store(str(db)) as store, store.session() as s:
        assert s.scalar(select(func.count()).select_from(Scan)) == 2
        n = s.scalar(select(func.count()).select_from(ScanItem))
        assert n == 2 * len(items(tmp / "one"))


def test_out_inside_evidence_and_existing_out_are_refused(case: dict) -> None:
    ev, db, tmp = case["ev"], case["db"], case["tmp"]
    before = file_state(ev)
    code, _, err = run(["scan", str(ev), "--out", str(ev / "report")], db)
    assert code == 1 and "inside the evidence" in err
    assert not (ev / "report").exists() and file_state(ev) == before
    assert run(["scan", str(ev), "--out", str(tmp / "o")], db)[0] == 0
    code, _, err = run(["scan", str(ev), "--out", str(tmp / "o")], db)
    assert code == 1 and "--resume" in err
    code, _, err = run(["scan", str(tmp / "missing"), "--out", str(tmp / "o2")], db)
    assert code == 1 and "evidence not found" in err


def test_resume_after_torn_journal_matches_full_scan(case: dict) -> None:
    ev, db, tmp = case["ev"], case["db"], case["tmp"]
    full = tmp / "full"
    assert run(["scan", str(ev), "--out", str(full), "--workers", "1"], db)[0] == 0
    part = tmp / "part"
    part.mkdir()
    lines = (full / "items.jsonl").read_text().splitlines(keepends=True)
    # A scan killed after 5 items, halfway through writing the 6th line.
    (part / "items.jsonl").write_text("".join(lines[:5]) + lines[5][: len(lines[5]) // 2])
    code, _, err = run(["scan", str(ev), "--out", str(part), "--resume", "--workers", "2"], db)
    assert code == 0, err
    assert items(part) == items(full)
    summary = json.loads((part / "summary.json").read_text())
    assert summary["counts"]["items"] == len(lines)
    assert summary["settings"]["resumed"] is True


def test_hash_command_prints_json_lines(case: dict) -> None:
    ev, db = case["ev"], case["db"]
    code, out, _ = run(["hash", str(ev / "exact0.jpg"), str(ev / "goodfile.txt")], db)
    assert code == 0
    a, b = (json.loads(line) for line in out.splitlines())
    assert list(a) == ["path", "size", "md5", "sha1", "sha256", "pdq", "pdq_quality", "vpdq", "media_type"]
    data = (ev / "exact0.jpg").read_bytes()
    assert a["md5"] == hashlib.md5(data).hexdigest() and a["sha256"] == hashlib.sha256(data).hexdigest()
    assert a["size"] == len(data) and a["media_type"] == "image/jpeg" and len(a["pdq"]) == 64
    assert b["pdq"] is None and b["media_type"] == "text/plain"
    code, out, err = run(["hash", str(ev / "truncated.jpg")], db)
    assert code == 1 and "truncated" in json.loads(out)["error"] and "could not be fully hashed" in err
