"""The progress bar shows on a terminal and stays out of pipes."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
from pathlib import Path


def scan_cmd(tmp_path: Path, out: str) -> list[str]:
    ev = tmp_path / "ev"
    ev.mkdir(exist_ok=True)
    for i in range(30):
        (ev / f"f{i}.bin").write_bytes(os.urandom(1000 + i))
    return [
        sys.executable,
        "-m",
        "vigil",
        "--db",
        str(tmp_path / "s.db"),
        "scan",
        str(ev),
        "--out",
        str(tmp_path / out),
    ]


def test_progress_on_a_terminal(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    screen = bytearray()

    def drain() -> None:  # read while the scan runs, so a full pty buffer never blocks it
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            screen.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    proc = subprocess.run(
        scan_cmd(tmp_path, "tty"),
        stdout=subprocess.PIPE,
        stderr=slave,
        stdin=subprocess.DEVNULL,
        env=os.environ | {"COLUMNS": "150", "TERM": "xterm"},
        timeout=120,
        check=False,
    )
    os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    assert proc.returncode == 0
    text = screen.decode(errors="replace")
    assert "scanning" in text and "30/30" in text and "files/s" in text


def test_no_progress_when_not_a_terminal(tmp_path: Path) -> None:
    proc = subprocess.run(
        scan_cmd(tmp_path, "pipe"), capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "files/s" not in proc.stderr and "scanning" not in proc.stderr
    assert proc.stdout.strip().endswith("report.html")
