"""Hash-set import and export: one module per format, each registered by its stable name."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO, cast

from vigil.core.errors import ImportFormatError, VigilError
from vigil.core.fsio import atomic_write
from vigil.core.records import ExportRecord, HashRecord
from vigil.exchange.base import Format, ImportOptions, open_text, validate_record
from vigil.exchange.csvfmt import CSVFormat
from vigil.exchange.hashdeep import HashdeepFormat
from vigil.exchange.md5sum import MD5SumFormat, SHA1SumFormat, SHA256SumFormat
from vigil.exchange.nsrl import NSRLFormat
from vigil.exchange.tefile import ThreatExchangeFormat
from vigil.exchange.vics import VICSFormat
from vigil.exchange.vpdqfmt import VPDQFormat

_FORMATS: dict[str, Format] = {}


def register(fmt: Format) -> None:
    _FORMATS[fmt.name] = fmt


def get(name: str) -> Format:
    try:
        return _FORMATS[name]
    except KeyError:
        raise VigilError(f"unknown format {name!r} (known: {', '.join(sorted(_FORMATS))})") from None


def names(*, readable: bool | None = None, writable: bool | None = None) -> list[str]:
    return sorted(
        n
        for n, f in _FORMATS.items()
        if (readable is None or f.can_read == readable) and (writable is None or f.can_write == writable)
    )


def iter_file(path: Path, fmt: Format, options: ImportOptions | None = None) -> Iterator[HashRecord]:
    """Parse a file as it is read; ImportFormatError(file, line, reason) on the first bad line, or on the
    first record that breaks the rules every importer shares (`base.record_problem`)."""
    options = options or ImportOptions()
    if fmt.binary:
        for record in fmt.read_path(path, options):
            yield validate_record(record, str(path))
        return
    line = 0
    try:
        with open_text(path, "r") as fh:
            for record in fmt.read(fh, str(path), options):
                line = record.line
                yield validate_record(record, str(path))
    except UnicodeDecodeError as exc:
        raise ImportFormatError(str(path), line + 1, f"not UTF-8 text: {exc.reason}") from None


def read_file(path: Path, fmt: Format, options: ImportOptions | None = None) -> list[HashRecord]:
    """Parse a whole file into memory (small files; imports stream with `iter_file`)."""
    return list(iter_file(path, fmt, options))


def write_file_atomic(path: Path, fmt: Format, records: Iterable[ExportRecord]) -> int:
    """Write to a temporary file beside `path`, then rename: a failed export leaves no half file."""
    with atomic_write(path, newline="") as fh:
        return fmt.write(cast(TextIO, fh), records)


register(CSVFormat())
register(MD5SumFormat())
register(SHA1SumFormat())
register(SHA256SumFormat())
register(HashdeepFormat())
register(VPDQFormat())
register(ThreatExchangeFormat())
register(VICSFormat())
register(NSRLFormat())

__all__ = [
    "ExportRecord",
    "Format",
    "HashRecord",
    "ImportOptions",
    "get",
    "iter_file",
    "names",
    "read_file",
    "register",
    "write_file_atomic",
]
