"""hashdeep files: read as hashdeep writes them, written so that hashdeep reads, matches and audits them."""

from __future__ import annotations

import hashlib
import io
import os
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.exchange.formats import sample_records
from vigil import exchange
from vigil.cli import main
from vigil.core.errors import ImportFormatError
from vigil.core.records import HashRecord
from vigil.exchange.base import ImportOptions

DATA = b"benign bytes\n"
MD5, SHA1, SHA256 = (hashlib.new(a, DATA).hexdigest() for a in ("md5", "sha1", "sha256"))
TIGER = "0" * 48
WHIRLPOOL = "a" * 128
HEADER = "%%%% HASHDEEP-1.0\n%%%% size,md5,sha1,sha256,filename\n"
HASHDEEP = shutil.which("hashdeep")


def parse(text: str) -> list[HashRecord]:
    return list(exchange.get("hashdeep").read(io.StringIO(text), "known.txt", ImportOptions()))


def test_reads_hashdeep_output() -> None:
    text = (
        HEADER + "## Invoked from: /home/analyst\n## # hashdeep -c md5,sha1,sha256 -r ev\n## \n"
        f"13,{MD5},{SHA1},{SHA256},/home/analyst/ev/a.txt\n"
        f"0,{MD5.upper()},{SHA1},{SHA256},/home/analyst/ev/b, c,,d.txt\r\n"
        "# a comment\n\n"
        f"13,{MD5},{SHA1},{SHA256},\n"
    )
    records = parse(text)
    assert [(r.line, r.size, r.name) for r in records] == [
        (6, 13, "/home/analyst/ev/a.txt"),
        (7, 0, "/home/analyst/ev/b, c,,d.txt"),
        (10, 13, ""),
    ]
    assert records[1].hashes == {
        n: bytes.fromhex(h) for n, h in (("md5", MD5), ("sha1", SHA1), ("sha256", SHA256))
    }
    assert records[0].category is None


def test_column_order_and_algorithms_vigil_does_not_store() -> None:
    text = (
        "%%%% HASHDEEP-1.0\n%%%% SIZE,Tiger,SHA256,whirlpool,MD5,FileName\n"
        f"5,{TIGER},{SHA256},{WHIRLPOOL},{MD5},x.bin\n"
    )
    (rec,) = parse(text)
    assert rec.hashes == {"sha256": bytes.fromhex(SHA256), "md5": bytes.fromhex(MD5)}
    assert (rec.size, rec.name) == (5, "x.bin")


def test_default_hashdeep_columns_and_concatenated_files() -> None:
    text = (
        "%%%% HASHDEEP-1.0\n%%%% size,md5,sha256,filename\n## one\n"
        f"1,{MD5},{SHA256},a\n"
        "%%%% HASHDEEP-1.0\n%%%% size,sha1,filename\n## two\n"
        f"2,{SHA1},b\n"
    )
    assert [(r.line, sorted(r.hashes), r.size) for r in parse(text)] == [
        (4, ["md5", "sha256"], 1),
        (8, ["sha1"], 2),
    ]


def test_written_header_comments_and_rows() -> None:
    buf = io.StringIO()
    records = sample_records()
    count = exchange.get("hashdeep").write(buf, records)
    lines = buf.getvalue().splitlines()
    assert lines[:2] == ["%%%% HASHDEEP-1.0", "%%%% size,md5,sha1,sha256,filename"]
    assert re.fullmatch(r"## Written by vigil \S+ at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", lines[2])
    assert lines[3].startswith("## ") and lines[4] == "## "
    full = [r for r in records if r.size is not None and {"md5", "sha1", "sha256"} <= r.hashes.keys()]
    assert count == len(full) == len(lines) - 5 and 0 < count < len(records)
    for line, rec in zip(lines[5:], full, strict=True):
        h = rec.hashes
        assert line == (
            f"{rec.size},{h['md5'].hex()},{h['sha1'].hex()},{h['sha256'].hex()},"
            f"vigil/{rec.category or 'ungraded'}/{rec.entry_id}"
        )


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("", 1, "empty file"),
        (f"13,{MD5},{SHA1},{SHA256},a\n", 1, "first line must be '%%%% HASHDEEP-1.0'"),
        ("%%%% HASHDEEP-2.0\n", 1, "not a hashdeep file"),
        ("%%%% HASHDEEP-1.0\n", 2, "file ends before the column line"),
        ("%%%% HASHDEEP-1.0\n## comment\n", 2, "expected the column line"),
        ("%%%% HASHDEEP-1.0\n%%%% md5,size,filename\n", 2, "bad hashdeep column line"),
        ("%%%% HASHDEEP-1.0\n%%%% size,md5\n", 2, "bad hashdeep column line"),
        ("%%%% HASHDEEP-1.0\n%%%% size,filename\n", 2, "bad hashdeep column line"),
        ("%%%% HASHDEEP-1.0\n%%%% size,md5,crc32,filename\n", 2, "unknown hashdeep algorithm 'crc32'"),
        ("%%%% HASHDEEP-1.0\n%%%% size,md5,MD5,filename\n", 2, "appears twice"),
        ("%%%% HASHDEEP-1.0\n%%%% size,tiger,whirlpool,filename\n", 2, "no hash column vigil stores"),
        (HEADER + f"13,{MD5},{SHA1},a\n", 3, "expected 5 fields (size,md5,sha1,sha256,filename), found 4"),
        (HEADER + f"1.5,{MD5},{SHA1},{SHA256},a\n", 3, "size must be a whole number of bytes"),
        (HEADER + f",{MD5},{SHA1},{SHA256},a\n", 3, "size must be a whole number of bytes"),
        (HEADER + f"{2**63},{MD5},{SHA1},{SHA256},a\n", 3, "size must be a whole number of bytes"),
        (HEADER + f"1,{MD5},,{SHA256},a\n", 3, "sha1 value must be 40 hex digits, got 0"),
        (HEADER + f"1,{SHA1},{SHA1},{SHA256},a\n", 3, "md5 value must be 32 hex digits"),
        (HEADER + f"1,{MD5},{SHA1},{'z' * 64},a\n", 3, "sha256 value is not hexadecimal"),
        (HEADER + "## c\n%%%% size,md5,filename\n", 4, "unexpected header line"),
        ("%%%% HASHDEEP-1.0\n%%%% size,tiger,md5,filename\n" + f"1,{TIGER[:-1]},{MD5},a\n", 3, "tiger value"),
    ],
)
def test_bad_files_are_refused_at_the_right_line(text: str, line: int, reason: str) -> None:
    with pytest.raises(ImportFormatError) as info:
        parse(text)
    assert (info.value.file, info.value.line) == ("known.txt", line)
    assert reason in info.value.reason


# ---- against the real hashdeep ---------------------------------------------------------------------------


def benign_tree(root: Path) -> dict[str, bytes]:
    """Generated files: random bytes, an empty file, a duplicate, names with commas and spaces."""
    rng = random.Random(20240501)
    files: dict[str, bytes] = {}
    for i in range(12):
        files[f"dir{i % 3}/file {i}.bin"] = rng.randbytes(rng.randrange(1, 5000))
    files["empty"] = b""
    files["dir0/copy of file 1.bin"] = files["dir1/file 1.bin"]
    files["commas, in, name.txt"] = b"benign text\n"
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return files


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_round_trip_with_the_real_hashdeep(tmp_path: Path) -> None:
    assert HASHDEEP, "hashdeep is not installed (make test installs it: scripts/debian-deps.sh)"
    evidence = tmp_path / "evidence"
    files = benign_tree(evidence)
    known = tmp_path / "known.txt"
    made = run(["hashdeep", "-c", "md5,sha1,sha256", "-r", str(evidence)], tmp_path)
    assert made.returncode == 0, made.stderr
    known.write_text(made.stdout)
    # Also some entries without a size (an md5sum list): hashdeep export skips them.
    unsized = tmp_path / "unsized.md5"
    unsized.write_text("".join(f"{hashlib.md5(f'other {i}'.encode()).hexdigest()}  o{i}\n" for i in range(3)))

    db = str(tmp_path / "store.db")
    runner = CliRunner()
    imported = runner.invoke(
        main, ["--db", db, "import", str(known), "--format", "hashdeep", "--category", "N"]
    )
    assert imported.exit_code == 0, imported.output
    assert runner.invoke(main, ["--db", db, "import", str(unsized), "--format", "md5sum"]).exit_code == 0
    exported = tmp_path / "exported.txt"
    result = runner.invoke(main, ["--db", db, "--json", "export", str(exported), "--format", "hashdeep"])
    assert result.exit_code == 0, result.output
    distinct = {hashlib.sha256(d).hexdigest(): d for d in files.values()}
    assert f'"records": {len(distinct)}' in result.stdout  # duplicates are one entry; unsized ones skipped

    # hashdeep reads the export and knows every evidence file by hash and size (-x lists unknown files).
    unknown = run(["hashdeep", "-x", "-k", str(exported), "-r", str(evidence)], tmp_path)
    assert unknown.returncode == 0 and unknown.stdout == "", unknown.stdout + unknown.stderr
    # An audit of the original tree matches every file, under vigil's names: only 'moved' files.
    audit = run(["hashdeep", "-a", "-vv", "-k", str(exported), "-r", str(evidence)], tmp_path)
    assert "Files partially matched: 0" in audit.stdout and "New files found: 0" in audit.stdout
    assert "Known files not found: 0" in audit.stdout
    assert f"Files moved: {len(files)}" in audit.stdout
    # Laid out under the exported names, the audit passes outright.
    tree = tmp_path / "tree"
    for rec in exchange.read_file(exported, exchange.get("hashdeep")):
        assert rec.name is not None and rec.name.startswith("vigil/N/")
        (tree / rec.name).parent.mkdir(parents=True, exist_ok=True)
        (tree / rec.name).write_bytes(distinct[rec.hashes["sha256"].hex()])
        assert rec.size == len(distinct[rec.hashes["sha256"].hex()])
    audit = run(["hashdeep", "-l", "-a", "-vv", "-k", str(exported), "-r", "vigil"], tree)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "Audit passed" in audit.stdout + audit.stderr
    assert f"Files matched: {len(distinct)}" in audit.stdout


def test_reads_hashdeep_relative_and_default_output(tmp_path: Path) -> None:
    assert HASHDEEP, "hashdeep is not installed (make test installs it: scripts/debian-deps.sh)"
    evidence = tmp_path / "evidence"
    files = benign_tree(evidence)
    for args in (["-r", "-l", "."], ["-r", "."], ["-c", "sha1,tiger,whirlpool,md5", "-r", "-l", "."]):
        made = run(["hashdeep", *args], evidence)
        assert made.returncode == 0, made.stderr
        records = parse(made.stdout)
        by_name = {
            os.path.relpath(str(r.name), evidence if str(r.name).startswith("/") else "."): r for r in records
        }
        assert set(by_name) == set(files)
        for name, rec in by_name.items():
            assert rec.size == len(files[name])
            assert {k: v.hex() for k, v in rec.hashes.items()} == {
                k: hashlib.new(k, files[name]).hexdigest() for k in rec.hashes
            }
        assert set(records[0].hashes) == ({"md5", "sha1"} if "tiger" in str(args) else {"md5", "sha256"})
