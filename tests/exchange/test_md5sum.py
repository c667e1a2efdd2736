"""Checksum lists (md5sum, sha1sum, sha256sum): every coreutils and BSD form read; `md5sum -c` reads ours."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.exchange.formats import sample_record, sample_records
from vigil import exchange
from vigil.cli import main
from vigil.core.errors import ImportFormatError
from vigil.core.records import HashRecord
from vigil.exchange.base import ImportOptions

FORMATS = ("md5sum", "sha1sum", "sha256sum")
DATA = b"benign test bytes\n"
MD5 = hashlib.md5(DATA).hexdigest()
SHA1 = hashlib.sha1(DATA).hexdigest()
SHA256 = hashlib.sha256(DATA).hexdigest()


def parse(text: str, fmt: str = "md5sum") -> list[HashRecord]:
    return list(exchange.get(fmt).read(io.StringIO(text), "list.txt", ImportOptions()))


def one(text: str) -> tuple[str, str, str | None]:
    (rec,) = parse(text)
    ((signal, value),) = rec.hashes.items()
    return signal, value.hex(), rec.name


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"{MD5}  a.txt", ("md5", MD5, "a.txt")),
        (f"{MD5} *a.txt", ("md5", MD5, "a.txt")),
        (f"{MD5} a.txt", ("md5", MD5, "a.txt")),  # BSD `md5 -r`
        (f"{MD5}\ta.txt", ("md5", MD5, "a.txt")),
        (f"{SHA1}  dir/with space/ b.txt  ", ("sha1", SHA1, "dir/with space/ b.txt  ")),
        (f"{SHA256} * star.txt", ("sha256", SHA256, " star.txt")),
        (f"{MD5}  **", ("md5", MD5, "**")),
        (f"{MD5} **", ("md5", MD5, "*")),
        (f"{MD5.upper()}  UP.TXT", ("md5", MD5, "UP.TXT")),
        (f"   {MD5}  indented", ("md5", MD5, "indented")),
        (f"{MD5}  weird (name) = {SHA1}", ("md5", MD5, f"weird (name) = {SHA1}")),
        (f"\\{MD5}  back\\\\slash\\nnew\\rcr", ("md5", MD5, "back\\slash\nnew\rcr")),
        (f"MD5 (a.txt) = {MD5}", ("md5", MD5, "a.txt")),
        (f"SHA1 (a (1).txt) = {SHA1}", ("sha1", SHA1, "a (1).txt")),
        (f"SHA256 (x) = y) = {SHA256}", ("sha256", SHA256, "x) = y")),
        (f"\\SHA256 (new\\nline) = {SHA256}", ("sha256", SHA256, "new\nline")),
        (f"MD5(openssl.txt)= {MD5}", ("md5", MD5, "openssl.txt")),
        (f"SHA2-256(openssl.txt)= {SHA256}", ("sha256", SHA256, "openssl.txt")),
        (f"sha1 (lower tag) = {SHA1.upper()}", ("sha1", SHA1, "lower tag")),
        (MD5, ("md5", MD5, None)),
        (f"{SHA256}   ", ("sha256", SHA256, None)),
        (f"{MD5}  a.txt\r", ("md5", MD5, "a.txt")),
    ],
)
def test_reads_every_form(line: str, expected: tuple[str, str, str | None]) -> None:
    assert one(line + "\n") == expected
    assert one(line) == expected  # no final newline


def test_all_three_names_read_mixed_files_alike() -> None:
    text = (
        "# made by hand\n\n"
        f"{MD5}  a.txt\n"
        f"SHA1 (a.txt) = {SHA1}\n"
        "   \n"
        f"{SHA256} *a.txt\r\n"
        "#\n"
        f"{MD5}  name with\rcarriage return\n"
    )
    results = [[(r.line, r.hashes, r.name) for r in parse(text, fmt)] for fmt in FORMATS]
    assert results[0] == results[1] == results[2]
    assert results[0] == [
        (3, {"md5": bytes.fromhex(MD5)}, "a.txt"),
        (4, {"sha1": bytes.fromhex(SHA1)}, "a.txt"),
        (6, {"sha256": bytes.fromhex(SHA256)}, "a.txt"),
        (8, {"md5": bytes.fromhex(MD5)}, "name with\rcarriage return"),
    ]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("hello world", "not a checksum line"),
        (f"{MD5}a.txt", "not a checksum line"),
        (f"{MD5[:-2]}  a.txt", "30 hex digits is none of md5 (32), sha1 (40) or sha256 (64)"),
        (f"{SHA256}{SHA256}  a.txt", "128 hex digits"),
        (f"{'x' * 40}  a.txt", "sha1 value is not hexadecimal"),
        (f"MD5 (a.txt) = {SHA1}", "md5 value must be 32 hex digits, got 40"),
        (f"SHA256 (a.txt) = {MD5}", "sha256 value must be 64 hex digits, got 32"),
        (f"SHA512 (a.txt) = {SHA256}{SHA256}", "SHA512 is not a hash vigil stores"),
        (f"BLAKE2b (a.txt) = {SHA256}", "BLAKE2b is not a hash vigil stores"),
        ("MD5 (a.txt) = ", "md5 value must be 32 hex digits, got 0"),
        (f"\\{MD5}  bad\\escape", "bad escape '\\e'"),
        (f"\\{MD5}  trailing\\", "bad escape"),
        (f"{MD5}\x00  a.txt", "NUL"),
    ],
)
def test_bad_line_is_reported_with_its_number(line: str, reason: str) -> None:
    text = f"{MD5}  good.txt\n# comment\n\n{line}\n{MD5}  after.txt\n"
    with pytest.raises(ImportFormatError) as info:
        parse(text)
    assert (info.value.file, info.value.line) == ("list.txt", 4)
    assert reason in info.value.reason


def test_empty_and_comment_only_files_have_no_records() -> None:
    assert parse("") == []
    assert parse("# nothing here\n\n   \n") == []


def test_non_utf8_names_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "latin1.md5"
    path.write_bytes(MD5.encode() + b"  caf\xe9.txt\n")
    (rec,) = exchange.read_file(path, exchange.get("md5sum"))
    assert rec.hashes == {"md5": bytes.fromhex(MD5)}
    assert rec.name is not None and rec.name.encode("utf-8", "surrogateescape") == b"caf\xe9.txt"


def test_utf16_file_is_refused_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "windows.md5"
    path.write_bytes(f"{MD5}  a.txt\n".encode("utf-16"))
    with pytest.raises(ImportFormatError, match="UTF-16") as info:
        exchange.read_file(path, exchange.get("md5sum"))
    assert info.value.line == 1


@pytest.mark.parametrize(("fmt", "signal"), [("md5sum", "md5"), ("sha1sum", "sha1"), ("sha256sum", "sha256")])
def test_writes_coreutils_lines_for_entries_with_the_hash(fmt: str, signal: str) -> None:
    records = sample_records()
    buf = io.StringIO()
    count = exchange.get(fmt).write(buf, records)
    expected = [
        f"{r.hashes[signal].hex()}  vigil/{r.category or 'ungraded'}/{r.entry_id}"
        for r in records
        if signal in r.hashes
    ]
    assert count == len(expected) < len(records)
    assert buf.getvalue() == "".join(f"{line}\n" for line in expected)


def test_written_names_read_back() -> None:
    buf = io.StringIO()
    exchange.get("md5sum").write(buf, [sample_record(9, ("md5",), category=None)])
    (rec,) = parse(buf.getvalue())
    assert rec.name == "vigil/ungraded/9"


def write_files(root: Path) -> dict[str, bytes]:
    """Benign files with awkward names: spaces, brackets, a backslash, a newline, a leading star."""
    names = ["plain.txt", "with space.txt", "brackets (1).txt", "back\\slash.txt", "new\nline.txt", "*star"]
    files = {}
    for i, name in enumerate(names):
        data = f"benign file {i}\n".encode() * (i + 1)
        (root / name).write_bytes(data)
        files[name] = data
    return files


@pytest.mark.parametrize("tool", ["md5sum", "sha1sum", "sha256sum"])
@pytest.mark.parametrize("flags", [[], ["-b"], ["--tag"]], ids=["text", "binary", "tag"])
def test_reads_what_coreutils_writes(tmp_path: Path, tool: str, flags: list[str]) -> None:
    assert shutil.which(tool), f"{tool} (coreutils) is not installed"
    files = write_files(tmp_path)
    out = subprocess.run(
        [tool, *flags, "--", *files], cwd=tmp_path, capture_output=True, check=True
    ).stdout.decode()
    signal = tool.removesuffix("sum")
    records = parse(out, tool)
    assert {r.name: r.hashes[signal] for r in records} == {
        name: hashlib.new(signal, data).digest() for name, data in files.items()
    }


@pytest.mark.parametrize("tool", ["md5sum", "sha1sum", "sha256sum"])
def test_coreutils_checks_what_vigil_writes(tmp_path: Path, tool: str) -> None:
    """Lay benign files out under the exported names: `md5sum -c` then verifies every line."""
    assert shutil.which(tool), f"{tool} (coreutils) is not installed"
    signal = tool.removesuffix("sum")
    db = str(tmp_path / "store.db")
    contents = {f"item {i}".encode(): f"file-{i}" for i in range(5)}
    source = tmp_path / "hashes.csv"
    source.write_text(
        "md5,sha1,sha256,category\n"
        + "".join(
            f"{hashlib.md5(d).hexdigest()},{hashlib.sha1(d).hexdigest()},"
            f"{hashlib.sha256(d).hexdigest()},{'AB'[i % 2] if i < 4 else ''}\n"
            for i, d in enumerate(contents)
        )
    )
    runner = CliRunner()
    assert runner.invoke(main, ["--db", db, "import", str(source), "--format", "csv"]).exit_code == 0
    listing = tmp_path / "tree" / f"list.{tool}"
    listing.parent.mkdir()
    result = runner.invoke(main, ["--db", db, "export", str(listing), "--format", tool])
    assert result.exit_code == 0, result.output
    by_hash = {hashlib.new(signal, d).hexdigest(): d for d in contents}
    for rec in exchange.read_file(listing, exchange.get(tool)):
        assert rec.name is not None
        target = listing.parent / rec.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(by_hash[rec.hashes[signal].hex()])
    check = subprocess.run(
        [tool, "--check", "--strict", listing.name], cwd=listing.parent, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == 5
    assert "vigil/ungraded/5: OK" in check.stdout and "vigil/A/1: OK" in check.stdout
