r"""Checksum lists: ``md5sum``, ``sha1sum`` and ``sha256sum`` (GNU coreutils and BSD styles).

Reading — each of the three names reads every form below, and one file may mix them and mix hash types:

- GNU: ``<hex>  <name>`` (text mode) and ``<hex> *<name>`` (binary mode); a single space between hash and
  name (BSD ``md5 -r``) is read as coreutils reads it. Everything after the mode character is the name,
  spaces included;
- GNU escaped: a line starting with ``\`` has an escaped name: ``\\`` is a backslash, ``\n`` a newline,
  ``\r`` a carriage return (what coreutils writes for such names);
- BSD / ``--tag``: ``MD5 (<name>) = <hex>``, ``SHA1 (...)``, ``SHA256 (...)``; OpenSSL's
  ``MD5(<name>)= <hex>`` too. The name ends at the last ``)``;
- a bare ``<hex>``.

The hash type follows from the tag or else from the hex length (32 md5, 40 sha1, 64 sha256); a tag whose hex
has the wrong length, or a tag vigil has no signal for (SHA512, BLAKE2b, ...), is an error, never skipped.
Blank lines and lines starting with ``#`` are skipped; a trailing carriage return is dropped. Every line is
one record with one hash and its name in ``HashRecord.name``: lists of the same files in different hash
types are not merged by name. File names are bytes on most file systems, so names that are not UTF-8 are
kept (as surrogate escapes) instead of failing the import.

Writing: ``md5sum`` writes ``<md5>  vigil/<category or ungraded>/<entry id>`` (two spaces: text mode, as
``md5sum`` itself writes) for every entry with an md5 and skips the others; ``sha1sum`` and ``sha256sum``
likewise. The count returned is the number of lines written. ``md5sum -c`` reads the result.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from typing import ClassVar, TextIO

from vigil import signals
from vigil.core.categories import graded
from vigil.core.errors import ImportFormatError
from vigil.core.records import ExportRecord, HashRecord
from vigil.exchange.base import Format, ImportOptions, parse_hash

# BSD / --tag / OpenSSL names of the hash types vigil stores.
TAGS = {
    "MD5": "md5",
    "SHA1": "sha1",
    "SHA-1": "sha1",
    "SHA256": "sha256",
    "SHA-256": "sha256",
    "SHA2-256": "sha256",
}
_TAGGED = re.compile(r"([A-Za-z][A-Za-z0-9-]*) ?\((.*)\)[ \t]*=[ \t]*([^ \t]*)[ \t]*", re.DOTALL)
_GNU = re.compile(r"([^ \t]+)(?:[ \t](.*))?", re.DOTALL)
_HEX = re.compile(r"[0-9A-Fa-f]+")
# The common case, as coreutils writes it: '<hex>  <name>' or '<hex> *<name>'.
_PLAIN = re.compile(r"([0-9A-Fa-f]+) [ *](.+)", re.DOTALL)
_UNESCAPE = {"\\": "\\", "n": "\n", "r": "\r"}
EXPECTED = "expected '<hex>  <name>', '<hex> *<name>', 'MD5 (<name>) = <hex>' or a bare hash"


def numbered_lines(fh: TextIO, block: int = 1 << 16) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line, split on ``\\n`` only, one trailing ``\\r`` dropped.

    Names may contain a lone carriage return, which universal newlines would take for a line end.
    """
    if isinstance(fh, io.TextIOWrapper):
        fh.reconfigure(errors="surrogateescape")  # file names need not be UTF-8
    number = 0
    tail = ""
    while chunk := fh.read(block):
        parts = (tail + chunk).split("\n")
        tail = parts.pop()
        for part in parts:
            number += 1
            yield number, part[:-1] if part.endswith("\r") else part
    if tail:
        yield number + 1, tail.removesuffix("\r")


def unescape_name(text: str, file: str, line: int) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            nxt = text[i + 1 : i + 2]
            if nxt not in _UNESCAPE:
                raise ImportFormatError(file, line, f"bad escape '\\{nxt}' in an escaped file name")
            out.append(_UNESCAPE[nxt])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def escape_name(name: str) -> tuple[str, bool]:
    """The name as coreutils writes it, and whether the line needs the leading backslash."""
    if not any(c in name for c in "\\\n\r"):
        return name, False
    return name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r"), True


def hex_lengths() -> dict[int, str]:
    """Hex length -> name of the stream signal with that length (32 md5, 40 sha1, 64 sha256)."""
    return {s.size * 2: s.name for s in signals.stream_signals()}


def parse_checksum_line(
    text: str, file: str, line: int, by_length: dict[int, str] | None = None
) -> tuple[str, bytes, str | None]:
    """(signal name, value, file name or None) of one non-blank, non-comment line."""
    by_length = by_length or hex_lengths()
    if "\x00" in text:
        raise ImportFormatError(file, line, "line contains NUL characters (UTF-16 text? save it as UTF-8)")
    body = text.lstrip(" \t")
    escaped = body.startswith("\\")
    if escaped:
        body = body[1:]
    gnu = _GNU.fullmatch(body)
    token = gnu.group(1) if gnu else ""
    signal = by_length.get(len(token))
    if gnu and signal is not None and (_HEX.fullmatch(token) or not _TAGGED.fullmatch(body)):
        value = parse_hash(signal, token, file, line)
        rest = gnu.group(2)
        if rest is None or not rest.strip(" \t"):
            return signal, value, None
        if rest[:1] in (" ", "*") and len(rest) > 1:
            rest = rest[1:]  # the mode character: ' ' text, '*' binary
        return signal, value, unescape_name(rest, file, line) if escaped else rest
    tagged = _TAGGED.fullmatch(body)
    if tagged:
        tag, name, hex_text = tagged.groups()
        signal = TAGS.get(tag.upper())
        if signal is None:
            known = ", ".join(sorted({t for t in TAGS if "-" not in t}))
            raise ImportFormatError(file, line, f"{tag} is not a hash vigil stores (known tags: {known})")
        value = parse_hash(signal, hex_text, file, line)
        return signal, value, unescape_name(name, file, line) if escaped else name
    if token and _HEX.fullmatch(token):
        raise ImportFormatError(
            file, line, f"a hash of {len(token)} hex digits is none of md5 (32), sha1 (40) or sha256 (64)"
        )
    raise ImportFormatError(file, line, f"not a checksum line: {EXPECTED}")


def read_checksum_lines(fh: TextIO, file: str) -> Iterator[HashRecord]:
    by_length = hex_lengths()
    for number, text in numbered_lines(fh):
        if number == 1:
            text = text.removeprefix("\ufeff")
        plain = _PLAIN.fullmatch(text)
        if plain and (signal := by_length.get(len(plain.group(1)))) and not plain.group(2).isspace():
            yield HashRecord(line=number, hashes={signal: bytes.fromhex(plain.group(1))}, name=plain.group(2))
            continue
        if not text.strip() or text.startswith("#"):
            continue
        signal, value, name = parse_checksum_line(text, file, number, by_length)
        yield HashRecord(line=number, hashes={signal: value}, name=name)


def export_name(rec: ExportRecord) -> str:
    """The name vigil gives an entry in lists that need one: vigil/<category or ungraded>/<entry id>."""
    return f"vigil/{graded(rec.category) or 'ungraded'}/{rec.entry_id}"


class ChecksumListFormat(Format):
    """One coreutils checksum list; `signal` is the hash type it writes (it reads them all)."""

    signal: ClassVar[str]

    def read(self, fh: TextIO, file: str, options: ImportOptions) -> Iterator[HashRecord]:
        return read_checksum_lines(fh, file)

    def write(self, fh: TextIO, records: Iterable[ExportRecord]) -> int:
        count = 0
        for rec in records:
            value = rec.hashes.get(self.signal)
            if value is None:
                continue
            name, escaped = escape_name(export_name(rec))
            prefix = "\\" if escaped else ""
            fh.write(f"{prefix}{value.hex()}  {name}\n")
            count += 1
        return count


class MD5SumFormat(ChecksumListFormat):
    name = "md5sum"
    signal = "md5"
    description = "md5sum list: '<md5>  <name>' (reads sha1sum/sha256sum/BSD --tag lines too)"


class SHA1SumFormat(ChecksumListFormat):
    name = "sha1sum"
    signal = "sha1"
    description = "sha1sum list: '<sha1>  <name>' (reads md5sum/sha256sum/BSD --tag lines too)"


class SHA256SumFormat(ChecksumListFormat):
    name = "sha256sum"
    signal = "sha256"
    description = "sha256sum list: '<sha256>  <name>' (reads md5sum/sha1sum/BSD --tag lines too)"
