"""NIST's National Software Reference Library, RDS version 3: a SQLite database of known software files.

Read as a known-good source (category G, matching files are skipped in scans and never decoded), straight
from the database, streamed: ``SELECT DISTINCT sha256, sha1, md5, file_size FROM FILE`` (FILE is a
table in the full RDS and a view in the minimal sets; the same file appears once per package, hence
DISTINCT). Hashes are upper-case hex in the RDS. A row with a malformed hash is an error naming the row;
a file that is not SQLite, or has no FILE with those columns, is an error before anything is imported.
Read-only: vigil does not write RDS databases.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from vigil.core.errors import ImportFormatError, VigilError
from vigil.core.records import ExportRecord, HashRecord
from vigil.exchange.base import Format, ImportOptions, parse_hashes

BATCH = 50_000


class NSRLFormat(Format):
    name = "nsrl"
    description = "NSRL RDS v3 SQLite database (known-good: sha256, sha1, md5 and size of its FILE rows)"
    can_write = False
    binary = True
    known_good = True

    def read(self, fh: TextIO, file: str, options: ImportOptions) -> Iterator[HashRecord]:
        raise VigilError("NSRL RDS is a database: it is read from its path, not as text")

    def read_path(self, path: Path, options: ImportOptions) -> Iterator[HashRecord]:
        file = str(path)
        try:
            # Read-only, immutable: the evidence-style rule applies to reference data too.
            conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        except sqlite3.Error as exc:
            raise ImportFormatError(file, 1, f"cannot open as SQLite: {exc}") from None
        try:
            try:
                cur = conn.execute("SELECT DISTINCT sha256, sha1, md5, file_size FROM FILE")
            except sqlite3.DatabaseError as exc:
                raise ImportFormatError(file, 1, f"not an NSRL RDS v3 database ({exc})") from None
            row_number = 0
            while rows := cur.fetchmany(BATCH):
                for sha256, sha1, md5, size in rows:
                    row_number += 1
                    yield _record(file, row_number, sha256, sha1, md5, size)
        except sqlite3.DatabaseError as exc:
            raise ImportFormatError(file, 1, f"database damaged: {exc}") from None
        finally:
            conn.close()

    def write(self, fh: TextIO, records: Iterable[ExportRecord]) -> int:
        raise VigilError("vigil does not write NSRL databases")


def _record(file: str, row: int, sha256: object, sha1: object, md5: object, size: object) -> HashRecord:
    hashes = parse_hashes((("md5", md5), ("sha1", sha1), ("sha256", sha256)), file, row, f"FILE row {row}")
    if not hashes:
        raise ImportFormatError(file, row, f"FILE row {row} has no hash")
    return HashRecord(
        line=row,
        hashes=hashes,
        size=size if isinstance(size, int) and size >= 0 else None,
        category="G",
    )
