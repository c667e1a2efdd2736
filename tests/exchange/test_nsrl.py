"""NSRL RDS v3 (SQLite) as a known-good source: streamed in, duplicates folded, files skipped in scans."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from vigil.cli import main

# The RDS v3 tables vigil reads (FILE), with the others around it as in NIST's schema.
SCHEMA = """
CREATE TABLE FILE (sha256 VARCHAR NOT NULL, sha1 VARCHAR NOT NULL, md5 VARCHAR NOT NULL,
  file_name VARCHAR NOT NULL, file_size INTEGER NOT NULL, package_id INTEGER NOT NULL,
  CONSTRAINT PK_FILE__FILE PRIMARY KEY (sha256, sha1, md5, file_name, file_size, package_id));
CREATE TABLE MFG (manufacturer_id INTEGER NOT NULL PRIMARY KEY, name VARCHAR NOT NULL);
CREATE TABLE OS (operating_system_id INTEGER, name VARCHAR NOT NULL, version VARCHAR NOT NULL,
  manufacturer_id INTEGER NOT NULL);
CREATE TABLE PKG (package_id INTEGER NOT NULL, name VARCHAR NOT NULL, version VARCHAR NOT NULL,
  operating_system_id INTEGER NOT NULL, manufacturer_id INTEGER NOT NULL, language VARCHAR NOT NULL,
  application_type VARCHAR NOT NULL);
"""


def run(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", str(db), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def rds(path: Path, files: dict[str, bytes], extra_rows: list[tuple] = ()) -> Path:  # type: ignore[assignment]
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    for package in (1, 2):  # the same file shipped in two packages: two rows, one known file
        for name, data in files.items():
            conn.execute(
                "INSERT INTO FILE VALUES (?, ?, ?, ?, ?, ?)",
                (
                    hashlib.sha256(data).hexdigest().upper(),
                    hashlib.sha1(data).hexdigest().upper(),
                    hashlib.md5(data).hexdigest().upper(),
                    name,
                    len(data),
                    package,
                ),
            )
    for row in extra_rows:
        conn.execute("INSERT INTO FILE VALUES (?, ?, ?, ?, ?, ?)", row)
    conn.commit()
    conn.close()
    return path


def test_rds_files_become_known_good_and_are_skipped_in_scans(tmp_path: Path) -> None:
    files = {f"lib{i}.dll": f"benign library {i}\n".encode() * (i + 1) for i in range(5)}
    db = tmp_path / "s.db"
    path = rds(tmp_path / "RDS_minimal.db", files)
    before = path.read_bytes()
    code, out, err = run(db, "--json", "import", str(path), "--format", "nsrl")
    assert code == 0, err
    stats = json.loads(out)[str(path)]
    assert stats["records"] == 5 and stats["entries_created"] == 5  # duplicates across packages folded
    assert path.read_bytes() == before  # opened read-only
    code, out, _ = run(db, "--json", "db", "stats")
    data = json.loads(out)
    assert data["categories"] == {"G": 5} and data["signal_types"] == {"md5": 5, "sha1": 5, "sha256": 5}
    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "lib3.dll").write_bytes(files["lib3.dll"])
    (ev / "mine.txt").write_text("not in the RDS\n")
    assert run(db, "scan", str(ev), "--out", str(tmp_path / "out"), "--workers", "1")[0] == 0
    items = {
        Path(r["path"]).name: r["verdict"]
        for r in map(json.loads, (tmp_path / "out" / "items.jsonl").read_text().splitlines())
    }
    assert items == {"lib3.dll": "known_good", "mine.txt": "unknown"}


def test_bad_rds_files_are_refused_with_a_reason(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    (tmp_path / "text.db").write_text("not a database at all\n" * 100)
    code, _, err = run(db, "import", str(tmp_path / "text.db"), "--format", "nsrl")
    assert (code == 1 and "not an NSRL RDS v3 database" in err) or "cannot open" in err
    other = sqlite3.connect(tmp_path / "other.db")
    other.execute("CREATE TABLE t (x)")
    other.commit()
    other.close()
    code, _, err = run(db, "import", str(tmp_path / "other.db"), "--format", "nsrl")
    assert code == 1 and "not an NSRL RDS v3 database" in err
    bad = rds(tmp_path / "bad.db", {"a.dll": b"a"}, [("XYZ", "00" * 20, "00" * 16, "b.dll", 1, 1)])
    code, _, err = run(db, "import", str(bad), "--format", "nsrl")
    assert code == 1 and "FILE row" in err and "64 hex digits" in err
    code, out, _ = run(db, "--json", "db", "stats")
    assert json.loads(out)["entries"] == 0  # nothing half-imported
