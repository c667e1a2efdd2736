"""ThreatExchange signal files against python-threatexchange itself (the `threatexchange` package):
what vigil writes, its LocalFileSignalExchangeAPI reads; what it appends, vigil imports."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from threatexchange.exchanges.impl.file_api import FileCollaborationConfig, LocalFileSignalExchangeAPI
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal

from tests.exchange.formats import fake_hash
from vigil.cli import main


def run(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", str(db), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def fetched(path: Path) -> set[tuple[str, str]]:
    api = LocalFileSignalExchangeAPI.for_collab(FileCollaborationConfig(filename=str(path), name="vigil"))
    out: set[tuple[str, str]] = set()
    for delta in api.fetch_iter([PdqSignal, VideoMD5Signal], None):
        out |= set(delta.updates)
    return out


def test_vigil_te_file_reads_in_threatexchange(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    pdqs = [fake_hash("pdq", str(i)).hex() for i in range(3)]
    (tmp_path / "in.csv").write_text(
        "pdq,md5,category\n" + "".join(f"{p},{fake_hash('md5', p).hex()},A\n" for p in pdqs)
    )
    assert run(db, "import", str(tmp_path / "in.csv"), "--format", "csv")[0] == 0
    code, out, _ = run(db, "--json", "export", str(tmp_path / "bank.te"), "--format", "te")
    assert code == 0 and json.loads(out)["records"] == 3
    assert fetched(tmp_path / "bank.te") == {("pdq", p) for p in pdqs}


def test_threatexchange_signal_files_import_into_vigil(tmp_path: Path) -> None:
    # As LocalFileSignalExchangeAPI.report_opinion appends them (its "wta" file mode fails on Python
    # 3.11, so the lines are written here) and as its fetch_iter reads them back.
    bank = tmp_path / "bank.te"
    lines = [
        ("pdq", fake_hash("pdq", "seed").hex()),
        ("video_md5", fake_hash("md5", "clip").hex()),
        ("pdq", fake_hash("pdq", "other").hex()),
    ]
    bank.write_text("".join(f"{kind} {value}\n" for kind, value in lines))
    assert fetched(bank) == set(lines)
    db = tmp_path / "s.db"
    code, out, err = run(db, "--json", "import", str(bank), "--format", "te", "--category", "B")
    assert code == 0, err
    assert json.loads(out)[str(bank)]["entries_created"] == 3
    code, out, _ = run(db, "--json", "export", str(tmp_path / "again.te"), "--format", "te")
    assert fetched(tmp_path / "again.te") == {line for line in lines if line[0] == "pdq"}
