"""vigil's CSV hash-set format (DESIGN.md §4).

Header row; columns md5, sha1, sha256, pdq, pdq_quality, vpdq, category, series, victim_identified, source,
notes. Any subset of the hash columns (at least one) in any order; every row needs at least one hash.
Hex is written lower-case and read case-insensitively. Columns vigil does not know are an error unless
`--ignore-extra`. A column is named after its signal, so a plug-in signal gets a column of its own.

category, series, source and notes come from other parties, so they are written through
`vigil.core.csvcell.quote_text` (a cell a spreadsheet would run as a formula gets a leading `'`) and read
through `unquote_text`, which takes that quote off again: vigil's own export reads back exactly.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import TextIO

from vigil import signals
from vigil.core.categories import graded
from vigil.core.csvcell import quote_text, unquote_text
from vigil.core.errors import ImportFormatError
from vigil.core.records import ExportRecord, HashRecord
from vigil.exchange.base import Format, ImportOptions, parse_bool, parse_category_field, parse_hash, parse_int

META_COLUMNS = ("category", "series", "victim_identified", "source", "notes")


def hash_columns() -> list[str]:
    return signals.names()


def quality_columns() -> dict[str, str]:
    """Column name -> signal name, for signals that carry a quality score."""
    return {f"{s.name}_quality": s.name for s in signals.image_signals()}


class CSVFormat(Format):
    name = "csv"
    description = "vigil CSV hash set: md5,sha1,sha256,pdq,pdq_quality,category,series,..."

    def read(self, fh: TextIO, file: str, options: ImportOptions) -> Iterator[HashRecord]:
        # strict: an unclosed quote is an error, not a field that silently swallows the rows after it.
        reader = csv.reader(fh, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            raise ImportFormatError(file, 1, "empty file: expected a header row") from None
        except csv.Error as exc:
            raise ImportFormatError(file, 1, f"unreadable CSV: {exc}") from None
        columns = [c.strip().lower() for c in header]
        hashes, qualities = hash_columns(), quality_columns()
        known = set(hashes) | set(qualities) | set(META_COLUMNS)
        seen: set[str] = set()
        for col in columns:
            if col in seen:
                raise ImportFormatError(file, 1, f"column {col!r} appears twice")
            seen.add(col)
            if col not in known and not options.ignore_extra:
                raise ImportFormatError(
                    file, 1, f"unknown column {col!r} (known: {', '.join(sorted(known))}; or --ignore-extra)"
                )
        hash_idx = [(i, c) for i, c in enumerate(columns) if c in hashes]
        if not hash_idx:
            raise ImportFormatError(file, 1, f"no hash column (need one of {', '.join(hashes)})")
        qual_idx = [(i, qualities[c]) for i, c in enumerate(columns) if c in qualities]
        meta_idx = {c: i for i, c in enumerate(columns) if c in META_COLUMNS}
        width = len(columns)
        line = 1
        try:
            for row in reader:
                line = reader.line_num
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) != width:
                    raise ImportFormatError(file, line, f"expected {width} fields, found {len(row)}")
                yield self._record(row, line, file, hash_idx, qual_idx, meta_idx)
        except csv.Error as exc:
            start = line + 1  # the bad row starts after the last good one; a quote may carry it further
            where = f" (in the row from line {start} to {reader.line_num})" if reader.line_num > start else ""
            raise ImportFormatError(file, start, f"unreadable CSV: {exc}{where}") from None

    @staticmethod
    def _record(
        row: list[str],
        line: int,
        file: str,
        hash_idx: list[tuple[int, str]],
        qual_idx: list[tuple[int, str]],
        meta_idx: dict[str, int],
    ) -> HashRecord:
        values: dict[str, bytes] = {}
        for i, name in hash_idx:
            cell = row[i]
            if cell and not cell.isspace():
                values[name] = parse_hash(name, cell, file, line)
        if not values:
            raise ImportFormatError(file, line, "row has no hash value")
        quality: dict[str, int] = {}
        for i, name in qual_idx:
            q = parse_int(row[i], f"{name}_quality", file, line, 0, 100)
            if q is not None:
                if name not in values:
                    raise ImportFormatError(file, line, f"{name}_quality given without a {name} hash")
                quality[name] = q
        meta = dict.fromkeys(META_COLUMNS, "")
        for col, i in meta_idx.items():
            meta[col] = unquote_text(row[i].strip())
        return HashRecord(
            line=line,
            hashes=values,
            quality=quality,
            category=parse_category_field(meta["category"], file, line) if meta["category"] else None,
            series=meta["series"] or None,
            victim_identified=(
                parse_bool(meta["victim_identified"], "victim_identified", file, line)
                if meta["victim_identified"]
                else None
            ),
            source=meta["source"] or None,
            notes=meta["notes"] or None,
        )

    def write(self, fh: TextIO, records: Iterable[ExportRecord]) -> int:
        hashes, qualities = hash_columns(), quality_columns()
        header: list[str] = []
        for name in hashes:
            header.append(name)
            header.extend(col for col, sig in qualities.items() if sig == name)
        header.extend(META_COLUMNS)
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        count = 0
        for rec in records:
            row: list[str] = []
            for name in hashes:
                value = rec.hashes.get(name)
                row.append(value.hex() if value is not None else "")
                for _col, sig in ((c, s) for c, s in qualities.items() if s == name):
                    q = rec.quality.get(sig)
                    row.append("" if q is None or value is None else str(q))
            row += [
                graded(rec.category) or "",  # a value outside the vocabulary goes out ungraded
                quote_text(rec.series or ""),
                "true" if rec.victim_identified else "false",
                quote_text(rec.source or ""),
                quote_text(rec.notes or ""),
            ]
            writer.writerow(row)
            count += 1
        return count
