"""Reports are written to a temporary file and moved into place: never half a report, never a leftover."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.scanfolder import item, match, write_scan
from vigil.report import write_report_csv, write_report_html


def test_no_temporary_files_left(scan_dir: Path) -> None:
    before = set(scan_dir.iterdir())
    write_report_csv(scan_dir)
    write_report_html(scan_dir, lambda _item: None)
    write_report_html(scan_dir)  # overwriting is atomic too
    created = {p.name for p in set(scan_dir.iterdir()) - before}
    assert created == {"report.csv", "report.html"}


@pytest.mark.parametrize("writer", [write_report_csv, write_report_html])
def test_failure_keeps_the_old_report_and_leaves_nothing(scan_dir: Path, writer) -> None:
    report = writer(scan_dir)
    old = report.read_bytes()
    good = (scan_dir / "items.jsonl").read_text()
    (scan_dir / "items.jsonl").write_text(good + '{"path": "/e/torn.jpg", "verd\n')
    names = sorted(p.name for p in scan_dir.iterdir())
    with pytest.raises(ValueError, match=r"items\.jsonl line 9"):
        writer(scan_dir)
    assert sorted(p.name for p in scan_dir.iterdir()) == names
    assert report.read_bytes() == old


def test_failing_replace_leaves_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_scan(tmp_path, [item("/e/a.jpg", "known", [match()])])

    def boom(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(RuntimeError):
        write_report_csv(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["items.jsonl"]
