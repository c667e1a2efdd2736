"""`vigil scan` looks into archives: nested paths, matches inside, and every kind of hostile archive
finishing as error items with a reason (bombs, nesting, encryption, links, unsafe names, corruption)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import py7zr
import pytest
from click.testing import CliRunner

from tests.imagegen import render_image
from vigil.cli import main
from vigil.sources import Limits, Member, Problem
from vigil.sources.archive import SevenZipArchive, TarArchive, ZipArchive
from vigil.sources.locator import read_evidence

VIGIL = str(Path(sys.executable).parent / "vigil")


def png(seed: int, size: tuple[int, int] = (160, 120)) -> bytes:
    buf = io.BytesIO()
    render_image("shapes", seed, size).save(buf, format="PNG")
    return buf.getvalue()


def zip_bytes(members: dict[str, bytes], **kw: object) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, **kw) as zf:  # type: ignore[arg-type]
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def tar_bytes(members: dict[str, bytes], mode: str = "w:gz") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:  # type: ignore[call-overload]
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def run(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", str(db), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def scan(db: Path, evidence: Path, out: Path, *extra: str) -> dict[str, dict]:
    code, _out, err = run(db, "scan", str(evidence), "--out", str(out), "--workers", "1", *extra)
    assert code == 0, err
    records = [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()]
    by_path = {os.path.relpath(r["path"], evidence): r for r in records}
    assert len(by_path) == len(records), "an item was reported twice"
    return by_path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_nested_archives_are_named_and_matched_inside(tmp_path: Path) -> None:
    db, ev = tmp_path / "s.db", tmp_path / "ev"
    ev.mkdir()
    known, other = png(1), png(2)
    (tmp_path / "known.csv").write_text(f"sha256,category\n{sha256(known)},A\n")
    assert run(db, "import", str(tmp_path / "known.csv"), "--format", "csv")[0] == 0
    inner_tar = tar_bytes({"deep/known.png": known})
    inner_7z = io.BytesIO()
    with py7zr.SevenZipFile(inner_7z, "w") as sz:
        sz.writestr(other, "other.png")
        sz.writestr(known, "again.png")
    outer = zip_bytes({"a/other.png": other, "inner.tar.gz": inner_tar, "box.7z": inner_7z.getvalue()})
    (ev / "case.zip").write_bytes(outer)
    (ev / "single.png.gz").write_bytes(gzip.compress(known))
    before = {p.name: sha256(p.read_bytes()) for p in ev.iterdir()}

    items = scan(db, ev, tmp_path / "out")
    assert items["case.zip!/a/other.png"]["verdict"] == "unknown"
    assert items["case.zip!/a/other.png"]["sha256"] == sha256(other)
    assert items["case.zip!/a/other.png"]["pdq"]  # images inside archives are decoded too
    hit = items["case.zip!/inner.tar.gz!/deep/known.png"]
    assert hit["verdict"] == "known" and hit["matches"][0]["category"] == "A"
    assert items["case.zip!/box.7z!/again.png"]["verdict"] == "known"
    assert items["single.png.gz!/single.png"]["verdict"] == "known"
    assert items["case.zip"]["status"] == "ok" and items["case.zip"]["sha256"] == sha256(outer)
    # The container's own record comes after its members (written together).
    order = [json.loads(x)["path"] for x in (tmp_path / "out" / "items.jsonl").read_text().splitlines()]
    assert order.index(str(ev / "case.zip")) > order.index(str(ev / "case.zip!/box.7z!/again.png"))
    assert {p.name: sha256(p.read_bytes()) for p in ev.iterdir()} == before
    assert not (tmp_path / "out" / ".spill").exists()
    # The report can show (blurred) thumbnails of matches deep inside containers: their bytes are found.
    assert read_evidence(str(ev / "case.zip!/inner.tar.gz!/deep/known.png")) == known
    assert read_evidence(str(ev / "case.zip!/box.7z!/again.png")) == known
    assert read_evidence(str(ev / "case.zip!/no/such.png")) is None
    html = (tmp_path / "out" / "report.html").read_text()
    assert html.count("data:image/") >= 3


def test_zip64_member_is_read(tmp_path: Path) -> None:
    data = png(3)
    blob = zip_bytes({"big.png": data}, allowZip64=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, zf.open("forced.png", "w", force_zip64=True) as fh:
        fh.write(data)
    for archive in (blob, buf.getvalue()):
        # Members are opened while the container is being listed (as the scanner does).
        contents = []
        for member in ZipArchive(io.BytesIO(archive), "x.zip", Limits()).entries():
            assert isinstance(member, Member)
            with member.open() as fh:
                contents.append(fh.read())
        assert contents == [data]


def hostile_evidence(ev: Path) -> None:
    ev.mkdir()
    zeros = b"\0" * (40 << 20)
    (ev / "bomb.zip").write_bytes(zip_bytes({"zeros.bin": zeros, "fine.png": png(4)}))
    (ev / "bomb.tar.gz").write_bytes(
        tar_bytes({"first.png": png(5), "zeros.bin": zeros, "after.png": png(6)})
    )
    nested = zip_bytes({"core.png": png(7)})
    for level in range(6):  # 42.zip-style: archives all the way down
        nested = zip_bytes({f"level{level}.zip": nested})
    (ev / "nested.zip").write_bytes(nested)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name in ("../../escape.png", "/etc/absolute.png"):
            data = png(8)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("loop")
        link.type, link.linkname = tarfile.SYMTYPE, "loop"
        tf.addfile(link)
        fifo = tarfile.TarInfo("pipe")
        fifo.type = tarfile.FIFOTYPE
        tf.addfile(fifo)
    (ev / "names.tar").write_bytes(buf.getvalue())
    (ev / "truncated.zip").write_bytes(zip_bytes({"a.png": png(9)})[:-30])
    (ev / "garbage.7z").write_bytes(b"7z\xbc\xaf\x27\x1c" + os.urandom(200))
    (ev / "old.rar").write_bytes(b"Rar!\x1a\x07\x00" + os.urandom(200))
    wide = Image_bomb_png()
    (ev / "pixels.zip").write_bytes(zip_bytes({"bomb.png": wide}))
    enc = io.BytesIO()
    with py7zr.SevenZipFile(enc, "w", password="secret") as sz:
        sz.writestr(png(10), "hidden.png")
    (ev / "locked.7z").write_bytes(enc.getvalue())
    secret = ev / "secret.png"
    secret.write_bytes(png(11))
    subprocess.run(["zip", "-q", "-j", "-P", "pw", str(ev / "locked.zip"), str(secret)], check=True)
    secret.unlink()
    os.symlink("loop", ev / "loop")  # a symbolic link loop in the folder itself


def Image_bomb_png() -> bytes:
    """A small PNG that claims 30000 x 30000 pixels (a decompression bomb for naive decoders)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("1", (30000, 30000)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.slow
def test_hostile_archives_become_error_items_and_the_scan_completes(tmp_path: Path) -> None:
    db, ev, out = tmp_path / "s.db", tmp_path / "ev", tmp_path / "out"
    hostile_evidence(ev)
    before = {p.name: sha256(p.read_bytes()) for p in ev.iterdir() if not p.is_symlink()}
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp), VIGIL_DB=str(db))
    # A fresh parent whose only children are the scan and its workers reports their peak RSS.
    measure = (
        "import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:]).returncode; "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(rc)"
    )
    scan_cmd = [VIGIL, "-q", "scan", str(ev), "--out", str(out), "--workers", "2"]
    proc = subprocess.run(
        [sys.executable, "-c", measure, *scan_cmd], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    peak = int(proc.stdout.split()[-1]) * 1024
    assert peak < 1 << 30, f"peak RSS {peak >> 20} MB"
    records = [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()]
    items = {r["path"].removeprefix(f"{ev}/"): r for r in records}  # (relpath would fold "../")
    assert len(items) == len(records)

    def error(path: str) -> str:
        assert items[path]["status"] == "error", items[path]
        return str(items[path]["error"])

    assert "expansion ratio" in error("bomb.zip!/zeros.bin")
    assert items["bomb.zip!/fine.png"]["status"] == "ok"
    assert "expansion ratio" in error("bomb.tar.gz!/zeros.bin")
    assert items["bomb.tar.gz!/first.png"]["status"] == "ok"
    assert "rest of the archive not read" in error("bomb.tar.gz!/…")
    deepest = max((p for p in items if p.startswith("nested.zip")), key=lambda p: p.count("!/"))
    assert deepest.count("!/") == 4 and "nested deeper than 4" in error(deepest)
    assert not any("core.png" in p for p in items)
    escape = items["names.tar!/../../escape.png"]
    assert "climbs out" in error("names.tar!/../../escape.png") and escape["sha256"] == sha256(png(8))
    assert "absolute member name" in error("names.tar!//etc/absolute.png")
    assert "symbolic link to loop" in error("names.tar!/loop")
    assert "special member" in error("names.tar!/pipe")
    assert "cannot read zip archive" in error("truncated.zip")
    assert items["truncated.zip"]["sha256"] == before["truncated.zip"]  # still hashed
    assert "7z" in error("garbage.7z")
    assert "RAR archive: not opened" in error("old.rar") and items["old.rar"]["sha256"]
    assert "pixels" in error("pixels.zip!/bomb.png")
    assert error("locked.7z!/hidden.png") == "encrypted"
    assert error("locked.zip!/secret.png") == "encrypted"
    summary = json.loads((out / "summary.json").read_text())
    assert any(s["path"].endswith("loop") and "symbolic link" in s["reason"] for s in summary["skipped"])
    # Evidence untouched; nothing written outside --out (not even temporary files); spill folder gone.
    assert {p.name: sha256(p.read_bytes()) for p in ev.iterdir() if not p.is_symlink()} == before
    assert list(tmp.iterdir()) == []
    assert not (out / ".spill").exists()


def test_member_limit_and_big_members_spill_to_the_spill_folder(tmp_path: Path) -> None:
    many = zip_bytes({f"f{i}.txt": b"x%d" % i for i in range(50)})
    entries = list(ZipArchive(io.BytesIO(many), "m.zip", Limits(max_members=10)).entries())
    assert sum(isinstance(e, Member) for e in entries) == 10
    assert isinstance(entries[-1], Problem) and "member limit" in entries[-1].reason
    spill = tmp_path / "spill"
    spill.mkdir()
    payload = os.urandom(3 << 20)
    blob = io.BytesIO()
    with py7zr.SevenZipFile(blob, "w") as sz:
        sz.writestr(payload, "random.bin")
    blob.seek(0)
    archive = SevenZipArchive(blob, "r.7z", Limits(spill_memory=1 << 20, spill_dir=str(spill)))
    entries = archive.entries()
    member = next(entries)
    assert isinstance(member, Member)
    assert len(list(spill.iterdir())) == 0  # anonymous temporary file: no name to leave behind
    with member.open() as fh:
        assert fh.read() == payload
    entries.close()


def test_tar_members_stream_in_order(tmp_path: Path) -> None:
    data = {f"d/{i}.bin": os.urandom(1000 + i) for i in range(5)}
    for mode in ("w", "w:gz", "w:bz2", "w:xz"):
        blob = tar_bytes(data, mode)
        assert TarArchive.detect(blob[:8192], "x")
        got = {}
        for entry in TarArchive(io.BytesIO(blob), "x.tar", Limits()).entries():
            assert isinstance(entry, Member)
            with entry.open() as fh:
                got[entry.name] = fh.read()
        assert got == data, mode


@pytest.mark.slow
@pytest.mark.parametrize("shard_bytes", ["0", "67108864"], ids=["split", "whole"])
@pytest.mark.parametrize("delay", [0.4, 1.2, 2.5])
def test_resume_after_kill_9_matches_an_uninterrupted_scan(
    tmp_path: Path, delay: float, shard_bytes: str
) -> None:
    import signal
    import time

    ev = tmp_path / "ev"
    ev.mkdir()
    for i in range(6):
        (ev / f"pack{i}.zip").write_bytes(zip_bytes({f"p/{j}.png": png(100 * i + j) for j in range(8)}))
        (ev / f"pic{i}.png").write_bytes(png(1000 + i))
    (ev / "t.tar.gz").write_bytes(tar_bytes({f"t/{j}.png": png(2000 + j) for j in range(10)}))
    # "split": every zip is shared out between the two workers and its parts gathered before writing.
    env = dict(os.environ, VIGIL_DB=str(tmp_path / "s.db"), VIGIL_SHARD_BYTES=shard_bytes)
    cmd = [VIGIL, "-q", "scan", str(ev), "--workers", "2", "--no-thumbnails"]
    subprocess.run([*cmd, "--out", str(tmp_path / "full")], env=env, check=True, capture_output=True)
    proc = subprocess.Popen([*cmd, "--out", str(tmp_path / "cut")], env=env, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    subprocess.run(
        [*cmd, "--out", str(tmp_path / "cut"), "--resume"], env=env, check=True, capture_output=True
    )

    def rows(out: Path) -> list[tuple[str, str, str]]:
        lines = (out / "items.jsonl").read_text().splitlines()
        return sorted((r["path"], r["sha256"], r["verdict"]) for r in map(json.loads, lines))

    full, resumed = rows(tmp_path / "full"), rows(tmp_path / "cut")
    assert len({p for p, _, _ in resumed}) == len(resumed), "an item appears twice after resuming"
    assert resumed == full
    assert len(full) == 6 * 9 + 6 + 11


def test_a_file_over_its_time_budget_is_an_error_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "big.bin").write_bytes(os.urandom(64 << 20))
    (ev / "pic.png").write_bytes(png(1))
    monkeypatch.setenv("VIGIL_FILE_SECONDS", "0.005")
    items = scan(tmp_path / "s.db", ev, tmp_path / "out")
    assert items["big.bin"]["status"] == "error"
    assert "took longer than the 0.005 s budget" in items["big.bin"]["error"]
    monkeypatch.setenv("VIGIL_FILE_SECONDS", "0")  # no budget
    assert scan(tmp_path / "s.db", ev, tmp_path / "out2")["big.bin"]["status"] == "ok"
