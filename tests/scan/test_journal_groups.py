"""Containers with many members: records spill to part files (bounded memory), and a container cut
short by a kill is dropped from the journal on --resume and done again, so nothing appears twice."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from vigil.cli import main
from vigil.scan import journal
from vigil.scan.worker import Sink


def run(db: Path, *args: str) -> int:
    return CliRunner().invoke(main, ["--db", str(db), *args], catch_exceptions=False).exit_code


def rows(out: Path) -> list[tuple[str, str]]:
    lines = (out / "items.jsonl").read_text().splitlines()
    return [(r["path"], r["sha256"]) for r in map(json.loads, lines)]


def evidence(root: Path) -> Path:
    root.mkdir()
    for z in range(3):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for i in range(40):
                zf.writestr(f"dir/{i}.txt", f"zip {z} member {i}\n")
        (root / f"pack{z}.zip").write_bytes(buf.getvalue())
    (root / "plain.txt").write_text("plain\n")
    return root


@pytest.mark.parametrize("workers", ["1", "2"])
def test_member_records_spill_to_part_files_and_come_out_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    ev, db = evidence(tmp_path / "ev"), tmp_path / "s.db"
    assert run(db, "scan", str(ev), "--out", str(tmp_path / "mem"), "--workers", workers) == 0
    monkeypatch.setattr(Sink, "KEEP", 7)  # every container spills its records to a part file
    monkeypatch.setenv("VIGIL_SHARD_BYTES", "0")  # and is split over the workers too
    assert run(db, "scan", str(ev), "--out", str(tmp_path / "spilled"), "--workers", workers) == 0
    assert sorted(rows(tmp_path / "spilled")) == sorted(rows(tmp_path / "mem"))
    assert len(rows(tmp_path / "mem")) == 3 * 41 + 1
    order = [p for p, _ in rows(tmp_path / "spilled")]
    for z in range(3):  # each container's own record follows all of its members
        own = order.index(str(ev / f"pack{z}.zip"))
        assert all(order.index(p) < own for p in order if p.startswith(f"{ev}/pack{z}.zip!/"))
    assert not (tmp_path / "spilled" / ".spill").exists()


def test_resume_drops_a_container_cut_short_and_does_it_again(tmp_path: Path) -> None:
    ev, db = evidence(tmp_path / "ev"), tmp_path / "s.db"
    full, cut = tmp_path / "full", tmp_path / "cut"
    assert run(db, "scan", str(ev), "--out", str(full), "--workers", "1") == 0
    lines = (full / "items.jsonl").read_text().splitlines(keepends=True)
    own = next(i for i, line in enumerate(lines) if json.loads(line)["path"] == str(ev / "pack1.zip"))
    # As if killed while pack1.zip's records were being appended: its members are there, it is not.
    cut.mkdir()
    (cut / "items.jsonl").write_text("".join(lines[: own - 10]) + lines[own - 10][:25])
    assert run(db, "scan", str(ev), "--out", str(cut), "--workers", "1", "--resume") == 0
    resumed = rows(cut)
    assert len({p for p, _ in resumed}) == len(resumed), "an item appears twice after resuming"
    assert sorted(resumed) == sorted(rows(full))


def test_top_of_finds_the_evidence_file_a_member_belongs_to() -> None:
    tops = {"/ev/a.zip", "/ev/x!/b.zip", "/ev/c"}
    assert journal.top_of("/ev/a.zip!/in/d.zip!/e.jpg", tops) == "/ev/a.zip"
    assert journal.top_of("/ev/x!/b.zip!/f.jpg", tops) == "/ev/x!/b.zip"  # a folder whose name ends in !
    assert journal.top_of("/ev/a.zip", tops) is None
    assert journal.top_of("/elsewhere!/g", tops) is None
