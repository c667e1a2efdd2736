"""`vigil scan` of disk images end to end: an E01 of an MBR disk (FAT + ext4) with a zip inside and a
deleted file; damaged images as error items; the evidence files unchanged."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

from click.testing import CliRunner

from tests.sources import diskimages as d
from vigil.cli import main


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_e01_disk_with_partitions_archives_and_a_deleted_file(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    known, inner, gone, plain = d.png(1, (120, 90)), d.png(2, (120, 90)), d.png(3, (120, 90)), d.png(4)
    pack = io.BytesIO()
    with zipfile.ZipFile(pack, "w") as zf:
        zf.writestr("holiday/inner.png", inner)
    fat = d.fat_image(work / "p1.fat", {"DCIM/KNOWN.PNG": known, "PACK.ZIP": pack.getvalue()})
    ext = d.ext4_image(work / "p2.ext4", {"home/gone.png": gone, "home/plain.png": plain}, work=work)
    d.ext_delete(ext, "/home/gone.png")
    raw = work / "disk.raw"
    d.partitioned_disk(raw, [(fat, "c"), (ext, "83")])
    ev = tmp_path / "evidence"
    ev.mkdir()
    e01 = d.ewf_image(raw, ev / "disk")
    (ev / "truncated.E01").write_bytes(e01.read_bytes()[: e01.stat().st_size // 2])
    broken = bytearray(raw.read_bytes()[: 4 << 20])
    broken[446 + 8 : 446 + 16] = (10**9).to_bytes(4, "little") * 2  # partition 1 starts past the end
    (ev / "broken.dd").write_bytes(bytes(broken))
    before = {p.name: sha256(p.read_bytes()) for p in ev.iterdir()}

    db = tmp_path / "s.db"
    (tmp_path / "k.csv").write_text(f"sha256,category\n{sha256(known)},B\n{sha256(gone)},C\n")
    runner = CliRunner()
    assert (
        runner.invoke(main, ["--db", str(db), "import", str(tmp_path / "k.csv"), "--format", "csv"]).exit_code
        == 0
    )
    out = tmp_path / "out"
    result = runner.invoke(
        main, ["--db", str(db), "scan", str(ev), "--out", str(out), "--workers", "2"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(x) for x in (out / "items.jsonl").read_text().splitlines()]
    items = {r["path"].removeprefix(f"{ev}/"): r for r in records}
    assert len(items) == len(records)

    hit = items["disk.E01!/p1/DCIM/KNOWN.PNG"]
    assert hit["verdict"] == "known" and hit["matches"][0]["category"] == "B" and not hit["deleted"]
    nested = items["disk.E01!/p1/PACK.ZIP!/holiday/inner.png"]
    assert nested["sha256"] == sha256(inner) and nested["pdq"]
    deleted = items["disk.E01!/p2/home/gone.png"]
    assert deleted["deleted"] is True and deleted["sha256"] == sha256(gone) and deleted["verdict"] == "known"
    assert items["disk.E01!/p2/home/plain.png"]["deleted"] is False
    assert items["disk.E01"]["status"] == "ok"
    assert items["truncated.E01"]["status"] == "error" and "truncated" in items["truncated.E01"]["error"]
    problems = [r for p, r in items.items() if p.startswith("broken.dd") and r["status"] == "error"]
    assert problems and any("partition" in str(r["error"]) for r in problems)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["verdicts"]["known"] >= 2
    assert {p.name: sha256(p.read_bytes()) for p in ev.iterdir()} == before


def test_a_big_image_split_over_workers_gives_the_same_items(tmp_path: Path, monkeypatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    files = {f"d{i}/f{j}.png": d.png(10 * i + j, (80, 60)) for i in range(4) for j in range(6)}
    ext = d.ext4_image(work / "fs.ext4", files, size_mib=8, work=work)
    d.ext_delete(ext, "/d1/f2.png")
    ev = tmp_path / "evidence"
    ev.mkdir()
    d.ewf_image(ext, ev / "image")
    db = tmp_path / "s.db"

    def items(out: Path, workers: str, shard_bytes: str) -> list[tuple[str, str, bool]]:
        monkeypatch.setenv("VIGIL_SHARD_BYTES", shard_bytes)
        args = ["--db", str(db), "scan", str(ev), "--out", str(out), "--workers", workers]
        assert CliRunner().invoke(main, args, catch_exceptions=False).exit_code == 0
        lines = (out / "items.jsonl").read_text().splitlines()
        records = [json.loads(x) for x in lines]
        assert records[-1]["path"] == str(ev / "image.E01")  # the container's own record comes last
        split = json.loads((out / "summary.json").read_text())["settings"]["split_containers"]
        assert split == (1 if workers == "2" else 0)
        return sorted((r["path"], r["sha256"], r["deleted"]) for r in records)

    one = items(tmp_path / "one", "1", "0")
    split = items(tmp_path / "split", "2", "0")  # every container is split over the 2 workers
    assert split == one
    assert len(one) == 1 + len(files)  # the image, its files (the deleted one too), nothing twice
    assert sum(deleted for _, _, deleted in one) == 1
