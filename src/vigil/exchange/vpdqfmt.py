"""vPDQ feature files as Meta's `vpdq` tools write them: one video per file, one sampled frame a line::

    0,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,100,0
    1,c0f11178372c6aaccddea259648fbfd62f434c89c9e99b249772be216c8d055c,98,1.000

(frame number, 64-hex-digit PDQ hash, quality 0-100, timestamp in seconds). Reading turns the whole file
into one record holding the video's `vpdq` value; the category comes from `--category`. Blank lines and
lines starting with ``#`` are skipped; anything else that is not such a line is an error with its line
number. Read-only: one file holds one video, so a store is not exported in this format.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TextIO

from vigil.core.errors import ImportFormatError, VigilError
from vigil.core.records import ExportRecord, HashRecord
from vigil.exchange.base import Format, ImportOptions
from vigil.signals.vpdq import VPDQSignal


class VPDQFormat(Format):
    name = "vpdq"
    description = "vPDQ features of one video (Meta's vpdq output: frame,pdq_hex,quality,seconds per line)"
    can_write = False

    def read(self, fh: TextIO, file: str, options: ImportOptions) -> Iterator[HashRecord]:
        hashes: list[bytes] = []
        quality: list[int] = []
        millis: list[int] = []
        first = 0
        for number, raw in enumerate(fh, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            first = first or number
            parts = [p.strip() for p in line.split(",")]
            if len(parts) != 4:
                raise ImportFormatError(
                    file, number, f"expected frame,hash,quality,seconds; got {len(parts)} fields"
                )
            frame, value, q, seconds = parts
            if not frame.isdigit():
                raise ImportFormatError(file, number, f"frame number must be a whole number, got {frame!r}")
            try:
                digest = bytes.fromhex(value)
            except ValueError:
                digest = b""
            if len(digest) != 32 or len(value) != 64:
                raise ImportFormatError(file, number, f"pdq hash must be 64 hex digits, got {value!r}")
            if not q.isdigit() or int(q) > 100:
                raise ImportFormatError(file, number, f"quality must be 0..100, got {q!r}")
            try:
                t = float(seconds)
            except ValueError:
                t = -1.0
            if not 0 <= t < 2**32 / 1000:
                raise ImportFormatError(file, number, f"timestamp must be seconds >= 0, got {seconds!r}")
            hashes.append(digest)
            quality.append(int(q))
            millis.append(round(t * 1000))
        if not hashes:
            raise ImportFormatError(file, 1, "no vPDQ frames in the file")
        yield HashRecord(line=first, hashes={"vpdq": VPDQSignal.encode(hashes, quality, millis)})

    def write(self, fh: TextIO, records: Iterable[ExportRecord]) -> int:
        raise VigilError("vpdq files are read-only in vigil (one video per file)")
