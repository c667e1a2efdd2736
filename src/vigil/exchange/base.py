"""What every hash-set format reads and writes, and the format registry.

A reader turns a file into `HashRecord`s, each carrying the line it came from, and raises
`ImportFormatError(file, line, reason)` on the first bad line; nothing reaches the store until the whole
file has been read. Every record of every importer (the formats here, signed deltas) then passes the same
rules, `record_problem`, before it reaches the store. A writer turns `ExportRecord`s (entries as the store
has them) into a file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, TextIO, cast

from vigil import signals
from vigil.core.categories import CATEGORIES, parse_category
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


# ---- the rules every imported record follows ------------------------------------------------------------

MAX_SIZE = 2**63 - 1  # the store's BIGINT
# Longest text kept per field (series and source names are String(200) columns; notes and names are text).
MAX_TEXT = {"series": 200, "source": 200, "notes": 10_000, "name": 4_096}


def record_problem(record: HashRecord) -> str | None:
    """What is wrong with a record by the rules every importer shares, or None when nothing is: hashes
    of known signals with well-formed values, qualities 0-100 of those hashes, a category from the
    vocabulary or none, a whole size 0..2**63-1, a real boolean for victim-identified, bounded text."""
    if not isinstance(record.hashes, dict) or not record.hashes:
        return "no hash value"
    for name, value in record.hashes.items():
        problem = _hash_problem(name, value)
        if problem:
            return problem
    if not isinstance(record.quality, dict):
        return "quality must be an object of signal: 0..100"
    for name, q in record.quality.items():
        if name not in record.hashes:
            return f"{name} quality given without a {name} hash"
        if signals.get(name).kind != "image":
            return f"{name} values carry no quality"
        if not isinstance(q, int) or isinstance(q, bool) or not 0 <= q <= 100:
            return f"{name} quality must be a whole number 0..100, got {q!r}"
    if record.category is not None and record.category not in CATEGORIES:
        return f"unknown category {record.category!r} (expected one of {', '.join(CATEGORIES)} or none)"
    if record.size is not None and (
        not isinstance(record.size, int) or isinstance(record.size, bool) or not 0 <= record.size <= MAX_SIZE
    ):
        return f"size must be a whole number of bytes 0..{MAX_SIZE}, got {record.size!r}"
    if record.victim_identified is not None and not isinstance(record.victim_identified, bool):
        return f"victim_identified must be true or false, got {record.victim_identified!r}"
    for field, limit in MAX_TEXT.items():
        text = getattr(record, field)
        if text is not None and not isinstance(text, str):
            return f"{field} must be text, got {text!r}"
        if text is not None and len(text) > limit:
            return f"{field} is longer than {limit} characters ({len(text)})"
    return None


def _hash_problem(name: object, value: object) -> str | None:
    try:
        signal = signals.get(name) if isinstance(name, str) else None
    except ValueError:
        signal = None
    if signal is None:
        return f"unknown signal {name!r} (known: {', '.join(signals.names())})"
    if not isinstance(value, bytes):
        return f"{name} value must be bytes, got {type(value).__name__}"
    if signal.kind != "video" and len(value) == signal.size:
        return None  # the common case, fixed-size values: their length is all there is to check
    try:
        signal.parse(signal.format(value))  # the signal's own rules (a video's: whole frames)
    except ValueError as exc:
        return str(exc)
    return None


def validate_record(record: HashRecord, file: str) -> HashRecord:
    """The record, or ImportFormatError(file, its line, what is wrong) by `record_problem`'s rules."""
    problem = record_problem(record)
    if problem is not None:
        raise ImportFormatError(file, record.line, problem)
    return record


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
