"""`vigil scan` starts hashing sooner when it does not import what it does not use: py7zr (~80 ms, only
when a 7z archive turns up) and rich (only for the progress bar)."""

from __future__ import annotations

import json
import subprocess
import sys

LAZY = ("py7zr", "rich")


def _loaded_after(code: str) -> dict[str, bool]:
    probe = f"import sys\n{code}\nimport json\nprint(json.dumps({{m: m in sys.modules for m in {LAZY!r}}}))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def test_cli_and_scanner_import_neither_py7zr_nor_rich() -> None:
    loaded = _loaded_after("import vigil.cli\nimport vigil.scan.runner\nimport vigil.scan.worker")
    assert loaded == dict.fromkeys(LAZY, False)


def test_scan_of_plain_files_leaves_them_unimported(tmp_path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "a.bin").write_bytes(b"benign bytes" * 1000)
    code = (
        "from pathlib import Path\n"
        "from vigil.scan import ScanOptions, run_scan\n"
        "from vigil.store import Store\n"
        f"store = Store({str(tmp_path / 'v.db')!r})\n"
        f"run_scan(store, ScanOptions([{str(evidence)!r}], Path({str(tmp_path / 'out')!r}), workers=1, "
        "progress=False))"
    )
    assert _loaded_after(code) == dict.fromkeys(LAZY, False)
    assert (tmp_path / "out" / "items.jsonl").read_text().count("\n") == 1


def test_the_import_formats_are_listed_when_asked(tmp_path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "vigil", "import", str(tmp_path), "--format", "nope"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert "'csv'" in out.stderr and "'vics'" in out.stderr and "'delta'" in out.stderr
