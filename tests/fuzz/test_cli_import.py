"""A few fixed mutated files through the real `vigil import` (a subprocess each, so only a handful): exit 0
or 1, on 1 a one-line error and no traceback, and a refused import leaves the store as it was."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.fuzzing import seed
from tests.store.storecheck import snapshot
from vigil.store import Store


def cut_half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def flip_middle(data: bytes) -> bytes:
    mid = len(data) // 2
    return data[:mid] + bytes([data[mid] ^ 0x5A]) + data[mid + 1 :]


def garbage_line(data: bytes) -> bytes:
    lines = data.splitlines(keepends=True)
    return b"".join([*lines[:2], b"\xff\xfe,\x00{not a record\n", *lines[2:]])


CASES = [
    ("csv", cut_half),
    ("vics", flip_middle),
    ("hashdeep", garbage_line),
    ("md5sum", garbage_line),
    ("vpdq", flip_middle),
    ("delta", flip_middle),
]


def vigil(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.run(
        [sys.executable, "-m", "vigil", "--db", str(db), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(("fmt", "mutate"), CASES, ids=[f"{f}-{m.__name__}" for f, m in CASES])
def test_mutated_file_through_the_cli(tmp_path: Path, fmt: str, mutate: object) -> None:
    db = tmp_path / "store.db"
    assert (
        vigil(db, "import", str(Path(__file__).parent / "corpus" / "seed.csv"), "--format", "csv").returncode
        == 0
    )
    with Store(str(db)) as store:
        before = snapshot(store)
    bad = tmp_path / f"mutated.{fmt}"
    bad.write_bytes(mutate(seed(f"seed.{fmt}")))  # type: ignore[operator]
    result = vigil(db, "import", str(bad), "--format", fmt)
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    if result.returncode == 1:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        with Store(str(db)) as store:
            assert snapshot(store) == before
