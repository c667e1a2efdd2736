"""ThreatExchange signal files: ``SIGNAL_TYPE VALUE`` a line, as python-threatexchange's
`LocalFileSignalExchangeAPI` reads them and its `report_opinion` appends them (and as HMA banks can be
filled from), e.g.::

    pdq f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22
    video_md5 d41d8cd98f00b204e9800998ecf8427e

Signal types map to vigil's signals: ``pdq`` ↔ pdq, ``video_md5`` ↔ md5, ``video_sha256`` ↔ sha256
(ThreatExchange has no file hash for photos; its md5/sha256 types are named for videos). The file has no
categories: `--category` gives them on import. Other ThreatExchange types (url, raw_text, …) are an error
with their line number unless `--ignore-extra`, which skips them. Blank lines are skipped.

Writing: one line per value — every entry's pdq, and the md5/sha256 of entries whose media type is a
video (ThreatExchange's video_md5/video_sha256 mean exactly that).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TextIO

from vigil.core.errors import ImportFormatError
from vigil.core.records import ExportRecord, HashRecord
from vigil.exchange.base import Format, ImportOptions, parse_hash

READ_TYPES = {"pdq": "pdq", "video_md5": "md5", "video_sha256": "sha256"}
WRITE_TYPES = {"pdq": "pdq", "md5": "video_md5", "sha256": "video_sha256"}


class ThreatExchangeFormat(Format):
    name = "te"
    description = "ThreatExchange signal file: 'SIGNAL_TYPE VALUE' per line (pdq, video_md5, video_sha256)"

    def read(self, fh: TextIO, file: str, options: ImportOptions) -> Iterator[HashRecord]:
        for number, raw in enumerate(fh, 1):
            line = raw.strip()
            if not line:
                continue
            kind, _, value = line.partition(" ")
            value = value.strip()
            if not value:
                raise ImportFormatError(file, number, "expected 'SIGNAL_TYPE VALUE'")
            signal = READ_TYPES.get(kind.lower())
            if signal is None:
                if options.ignore_extra:
                    continue
                known = ", ".join(READ_TYPES)
                reason = f"signal type {kind!r} is not one vigil keeps ({known})"
                raise ImportFormatError(file, number, reason)
            yield HashRecord(line=number, hashes={signal: parse_hash(signal, value.lower(), file, number)})

    def write(self, fh: TextIO, records: Iterable[ExportRecord]) -> int:
        count = 0
        for r in records:
            video = bool(r.media_type and r.media_type.startswith("video/"))
            for signal, kind in WRITE_TYPES.items():
                value = r.hashes.get(signal)
                if value is None or (signal != "pdq" and not video):
                    continue
                fh.write(f"{kind} {value.hex()}\n")
                count += 1
        return count
