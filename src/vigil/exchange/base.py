"""What every hash-set format reads and writes, and the format registry.

A reader turns a file into `HashRecord`s, each carrying the line it came from, and raises
`ImportFormatError(file, line, reason)` on the first bad line; nothing reaches the store until the whole
file has been read. A writer turns `ExportRecord`s (entries as the store has them) into a file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, TextIO, cast

from vigil import signals
from vigil.core.categories import parse_category
from vigil.core.errors import ImportFormatError, VigilError
from vigil.core.records import ExportRecord, HashRecord


@dataclass(frozen=True, slots=True)
class ImportOptions:
    ignore_extra: bool = False


class Format(ABC):
    """A hash-set file format with a stable `name` (the `--format` value)."""

    name: ClassVar[str]
    description: ClassVar[str]
    can_read: ClassVar[bool] = True
    can_write: ClassVar[bool] = True
    # Formats that are not text (a database file) are read from their path by `read_path`.
    binary: ClassVar[bool] = False
    # Whatever the options say, the hashes are known-good (a known-good reference set such as NSRL).
    known_good: ClassVar[bool] = False

    @abstractmethod
    def read(self, fh: TextIO, file: str, options: ImportOptions) -> Iterator[HashRecord]:
        """Yield records; raise ImportFormatError(file, line, reason) on the first bad line."""

    def read_path(self, path: Path, options: ImportOptions) -> Iterator[HashRecord]:
        """Yield records from a binary format's file (only called when `binary`)."""
        raise VigilError(f"{self.name} is not read from a path")

    @abstractmethod
    def write(self, fh: TextIO, records: Iterable[ExportRecord]) -> int:
        """Write records; return how many were written (a format may skip records it cannot express)."""


# ---- helpers shared by the formats -------------------------------------------------------------------------


def parse_hashes(pairs: Iterable[tuple[str, object]], file: str, line: int, where: str) -> dict[str, bytes]:
    """{signal: value} from (signal, hex) pairs, skipping empty ones; the error names `where`."""
    hashes: dict[str, bytes] = {}
    for name, value in pairs:
        if value not in (None, ""):
            try:
                hashes[name] = parse_hash(name, str(value).lower(), file, line)
            except ImportFormatError as exc:
                raise ImportFormatError(file, line, f"{where}: {exc.reason}") from None
    return hashes


def parse_hash(signal_name: str, text: str, file: str, line: int) -> bytes:
    try:
        return signals.get(signal_name).parse(text)
    except ValueError as exc:
        raise ImportFormatError(file, line, str(exc)) from None


def parse_category_field(text: str, file: str, line: int) -> str | None:
    if not text.strip():
        return None
    try:
        return parse_category(text)
    except ValueError as exc:
        raise ImportFormatError(file, line, str(exc)) from None


_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}


def parse_bool(text: str, column: str, file: str, line: int) -> bool | None:
    value = text.strip().lower()
    if value == "":
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImportFormatError(file, line, f"{column} must be true/false, got {text!r}")


def parse_int(text: str, column: str, file: str, line: int, lo: int, hi: int) -> int | None:
    value = text.strip()
    if value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise ImportFormatError(file, line, f"{column} must be a whole number, got {text!r}") from None
    if not lo <= number <= hi:
        raise ImportFormatError(file, line, f"{column} must be between {lo} and {hi}, got {number}")
    return number


def hash_signal_for_hex(text: str) -> str | None:
    """The stream signal whose hex length matches `text` (md5 32, sha1 40, sha256 64)."""
    for signal in signals.stream_signals():
        if len(text) == signal.size * 2:
            return signal.name
    return None


def open_text(path: Path, mode: str) -> TextIO:
    # utf-8-sig: files written on Windows often start with a byte-order mark.
    encoding = "utf-8-sig" if mode == "r" else "utf-8"
    return cast(TextIO, open(path, mode, encoding=encoding, newline=""))
