"""hashdeep files (``hashdeep -c md5,sha1,sha256 -r DIR``), the known-file lists of hashdeep/md5deep.

Layout, as hashdeep 4.x writes and reads it::

    %%%% HASHDEEP-1.0
    %%%% size,md5,sha1,sha256,filename
    ## Invoked from: /home/analyst
    ## # hashdeep -c md5,sha1,sha256 -r evidence
    ##
    6,9f9f90dbe3e5ee1218c86b8839db1995,d046...3130,b6a9...1060,/home/analyst/evidence/a.txt

Reading: the first line must be the ``%%%% HASHDEEP-1.0`` header and the next the column line: ``size``
first, ``filename`` last, hash columns among hashdeep's md5, sha1, sha256, tiger and whirlpool in any order
(case-insensitive). Columns vigil has signals for are kept; tiger and whirlpool are checked for shape and
ignored. Lines starting with ``#`` are comments. A row splits on its first commas only, so the file name —
the last field — may contain commas. Its size goes into ``HashRecord.size``, its name into ``.name``. A
repeated header starts a new block with its own column line (files made with ``cat a.txt b.txt``).

Sizes reach the store through ingest: an entry created by an import takes the size of its first record; an
entry already in the store keeps the size it has (a hashdeep import does not add a size to an entry created
earlier from a list without sizes).

Writing: the header with ``size,md5,sha1,sha256,filename``, ``##`` comment lines naming vigil and the time,
then one row per entry that has a size and all three hashes (others are skipped and not counted), named
``vigil/<category or ungraded>/<entry id>``. hashdeep reads it back with ``-k``: matching (``-m``/``-x``)
works on any tree; an audit (``-a``) also compares names, so it passes on a tree laid out under those names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from vigil import __version__, signals
from vigil.core.errors import ImportFormatError
from vigil.core.records import ExportRecord, HashRecord
from vigil.exchange.base import MAX_SIZE, Format, ImportOptions, parse_hash
from vigil.exchange.md5sum import export_name, numbered_lines

HEADER = "%%%% HASHDEEP-1.0"
COLUMN_PREFIX = "%%%% "
# hashdeep's algorithms and their hex lengths.
ALGORITHMS = {"md5": 32, "sha1": 40, "sha256": 64, "tiger": 48, "whirlpool": 128}
WRITTEN = ("md5", "sha1", "sha256")
_DIGITS = re.compile(r"[0-9]+")
_HEX = re.compile(r"[0-9A-Fa-f]+")


@dataclass(frozen=True, slots=True)
class Columns:
    """The middle (hash) columns of a block: algorithm names in order and which of them vigil keeps."""

    algorithms: tuple[str, ...]
    kept: frozenset[str]

    @property
    def width(self) -> int:
        return len(self.algorithms) + 2  # size ... filename


def parse_columns(text: str, file: str, line: int) -> Columns:
    names = [c.strip().lower() for c in text[len(COLUMN_PREFIX) :].split(",")]
    if len(names) < 3 or names[0] != "size" or names[-1] != "filename":
        raise ImportFormatError(
            file,
            line,
            f"bad hashdeep column line {text.strip()!r}: expected '%%%% size,<hashes...>,filename'",
        )
    middle = tuple(names[1:-1])
    for name in middle:
        if name not in ALGORITHMS:
            known = ", ".join(ALGORITHMS)
            raise ImportFormatError(file, line, f"unknown hashdeep algorithm {name!r} (known: {known})")
    if len(set(middle)) != len(middle):
        raise ImportFormatError(file, line, "a hash column appears twice in the column line")
    kept = frozenset(n for n in middle if n in signals.names())
    if not kept:
        stored = ", ".join(n for n in ALGORITHMS if n in signals.names())
        raise ImportFormatError(file, line, f"no hash column vigil stores (need one of {stored})")
    return Columns(middle, kept)


def parse_row(text: str, columns: Columns, file: str, line: int) -> HashRecord:
    fields = text.split(",", columns.width - 1)
    if len(fields) != columns.width:
        raise ImportFormatError(
            file,
            line,
            f"expected {columns.width} fields (size,{','.join(columns.algorithms)},filename), "
            f"found {len(fields)}",
        )
    size_text = fields[0].strip()
    if not _DIGITS.fullmatch(size_text) or int(size_text) > MAX_SIZE:
        raise ImportFormatError(file, line, f"size must be a whole number of bytes, got {fields[0]!r}")
    hashes: dict[str, bytes] = {}
    for algorithm, cell in zip(columns.algorithms, fields[1:-1], strict=True):
        if algorithm in columns.kept:
            hashes[algorithm] = parse_hash(algorithm, cell, file, line)
        elif len(cell.strip()) != ALGORITHMS[algorithm] or not _HEX.fullmatch(cell.strip()):
            raise ImportFormatError(
                file, line, f"{algorithm} value must be {ALGORITHMS[algorithm]} hex digits, got {cell!r}"
            )
    return HashRecord(line=line, hashes=hashes, size=int(size_text), name=fields[-1])


class HashdeepFormat(Format):
    name = "hashdeep"
    description = "hashdeep file: '%%%% HASHDEEP-1.0', then size,md5,sha1,sha256,filename rows"

    def read(self, fh: TextIO, file: str, options: ImportOptions) -> Iterator[HashRecord]:
        columns: Columns | None = None
        expect_columns = False
        number = 0
        for number, raw in numbered_lines(fh):
            text = raw.removeprefix("\ufeff") if number == 1 else raw
            if number == 1 and text.strip() != HEADER:
                raise ImportFormatError(file, 1, f"not a hashdeep file: the first line must be {HEADER!r}")
            if text.strip() == HEADER:
                expect_columns = True
                continue
            if expect_columns:
                if not text.startswith(COLUMN_PREFIX):
                    raise ImportFormatError(
                        file, number, "expected the column line '%%%% size,<hashes...>,filename' here"
                    )
                columns = parse_columns(text, file, number)
                expect_columns = False
                continue
            if text.startswith("#") or not text.strip():
                continue
            if text.startswith(COLUMN_PREFIX) or columns is None:
                raise ImportFormatError(file, number, f"unexpected header line {text.strip()!r}")
            yield parse_row(text, columns, file, number)
        if number == 0:
            raise ImportFormatError(file, 1, f"empty file: expected the header {HEADER!r}")
        if expect_columns:
            raise ImportFormatError(
                file, number + 1, "the file ends before the column line '%%%% size,...,filename'"
            )

    def write(self, fh: TextIO, records: Iterable[ExportRecord]) -> int:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        fh.write(f"{HEADER}\n{COLUMN_PREFIX}size,{','.join(WRITTEN)},filename\n")
        fh.write(f"## Written by vigil {__version__} at {now}\n")
        fh.write("## # vigil export --format hashdeep (entries with a size, md5, sha1 and sha256)\n")
        fh.write("## \n")
        count = 0
        for rec in records:
            if rec.size is None or any(name not in rec.hashes for name in WRITTEN):
                continue
            hexes = ",".join(rec.hashes[name].hex() for name in WRITTEN)
            fh.write(f"{rec.size},{hexes},{export_name(rec)}\n")
            count += 1
        return count
