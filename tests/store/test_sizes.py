"""File sizes: a hashdeep import stores them on the entries it creates; entries already stored keep theirs."""

from __future__ import annotations

from pathlib import Path

from tests.store.storecheck import cli, cli_import, entry_row, hexof, write
from vigil import exchange
from vigil.store import Store

MD5, SHA1, SHA256 = (hexof("sized", a) for a in ("md5", "sha1", "sha256"))
HEADER = "%%%% HASHDEEP-1.0\n%%%% size,md5,sha1,sha256,filename\n"


def hashdeep_export(store: Store, path: Path) -> list[str]:
    assert cli(store, "export", str(path), "--format", "hashdeep").exit_code == 0
    return [r.name or "" for r in exchange.read_file(path, exchange.get("hashdeep"))]


def test_hashdeep_import_stores_sizes_on_new_entries(any_store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "k.txt", f"{HEADER}4096,{MD5},{SHA1},{SHA256},/ev/a.bin\n")
    cli_import(any_store, path, fmt="hashdeep")
    entry = entry_row(any_store, MD5)
    assert entry.size == 4096
    assert hashdeep_export(any_store, tmp_path / "out.txt") == [f"vigil/ungraded/{entry.id}"]
    # A later list without sizes leaves the size alone.
    cli_import(any_store, write(tmp_path / "l.md5", f"{MD5}  a.bin\n"), fmt="md5sum")
    assert entry_row(any_store, MD5).size == 4096


def test_existing_entries_keep_their_size(any_store: Store, tmp_path: Path) -> None:
    cli_import(any_store, write(tmp_path / "first.csv", f"md5,category\n{MD5},B\n"))
    known = write(tmp_path / "k.txt", f"{HEADER}10,{MD5},{SHA1},{SHA256},a\n")
    assert cli_import(any_store, known, fmt="hashdeep")[str(known)]["signals_added"] == 2
    entry = entry_row(any_store, MD5)
    assert entry.size is None  # documented: ingest sets sizes only on the entries it creates
    assert hashdeep_export(any_store, tmp_path / "out.txt") == []
