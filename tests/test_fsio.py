"""vigil.core.fsio: evidence opened read-only; files written whole or not at all."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from vigil.core.fsio import atomic_write, open_readonly, write_bytes_atomic, write_text_atomic


def test_a_write_replaces_the_file_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "report.csv"
    write_text_atomic(target, "old\n")
    with atomic_write(target, newline="") as fh:
        fh.write("a,b\r\n")
    assert target.read_bytes() == b"a,b\r\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.csv"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # private unless asked otherwise


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    write_bytes_atomic(target, b"before")
    with pytest.raises(RuntimeError), atomic_write(target, "wb") as fh:
        fh.write(b"half of the new")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"before"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_permissions_prefix_and_folder_sync(tmp_path: Path) -> None:
    target = tmp_path / "MANIFEST.json"
    with atomic_write(target, prefix="tmp-MANIFEST.json.", perms=0o644, sync_dir=True) as fh:
        fh.write("{}")
        [temporary] = [p for p in tmp_path.iterdir() if p.name.startswith("tmp-MANIFEST.json.")]
    assert not temporary.exists() and target.read_text() == "{}"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_evidence_is_opened_read_only_and_a_final_link_is_refused(tmp_path: Path) -> None:
    evidence = tmp_path / "a.bin"
    evidence.write_bytes(b"benign")
    fd = open_readonly(str(evidence))
    try:
        with pytest.raises(OSError):
            os.write(fd, b"x")
        assert os.read(fd, 10) == b"benign"
    finally:
        os.close(fd)
    (tmp_path / "link").symlink_to(evidence)
    with pytest.raises(OSError):
        open_readonly(str(tmp_path / "link"))
