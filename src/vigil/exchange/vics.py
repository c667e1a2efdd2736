"""Project VIC VICS JSON (OData): the hash-set exchange of Project VIC tools (Griffeye, X-Ways, ...).

A hash set is ``{"@odata.context": ".../$metadata#Media", "value": [media, ...]}``; a case export is
``...#Cases`` whose ``value`` holds cases, each with a ``Media`` list. VICS 1.x files say
``"odata.metadata"`` instead of ``"@odata.context"``. Media fields read: ``MD5`` and ``SHA1`` (hex, any
case), ``Category`` (VICS number: 0 non-pertinent, 1 child abuse material, 2 exploitive / age difficult,
3 CGI / animation, 4 comparison), ``Series``, ``VictimIdentified``, ``Comments``, ``MediaSize``; the rest
(``MediaID``, ``PhotoDNA``, ``MediaFiles`` …) is accepted and not kept. Booleans may come as JSON
booleans or as the strings "true"/"false". A media record without MD5 or SHA1 is an error naming its
position; the same hash may repeat across records (real files do).

Categories map to vigil's (DESIGN.md §3): VICS 1 → I (indecent, not yet graded: VICS has no UK
grades), 2 → X, 3 → P, 4 → N, 0 → G. Written: A, B, C and I → 1, X → 2, P → 3, N → 4, G → 0; ungraded
entries carry no Category. Only entries with an MD5 are written (VICS keys media on MD5).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from vigil.core.categories import VICS_TO_CODE, to_vics
from vigil.core.errors import ImportFormatError
from vigil.core.records import ExportRecord, HashRecord
from vigil.exchange.base import Format, ImportOptions, parse_hashes

CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media"


class VICSFormat(Format):
    name = "vics"
    description = "Project VIC VICS JSON (OData Media or Cases), MD5/SHA1 with VICS categories"

    def read(self, fh: TextIO, file: str, options: ImportOptions) -> Iterator[HashRecord]:
        try:
            doc = json.load(fh)
        except json.JSONDecodeError as exc:
            raise ImportFormatError(file, exc.lineno, f"not JSON: {exc.msg}") from None
        except RecursionError:
            raise ImportFormatError(file, 1, "not a VICS file: JSON nested too deeply") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("value"), list):
            raise ImportFormatError(file, 1, 'not a VICS file: expected an object with a "value" list')
        context = str(doc.get("@odata.context") or doc.get("odata.metadata") or "")
        if context.endswith("#Cases"):
            media: list[Any] = []
            for case in doc["value"]:
                if not isinstance(case, dict) or not isinstance(case.get("Media", []), list):
                    raise ImportFormatError(file, 1, 'a case without a "Media" list')
                media.extend(case.get("Media", []))
        else:
            media = doc["value"]
        for number, m in enumerate(media, 1):
            yield _record(m, file, number)

    def write(self, fh: TextIO, records: Iterable[ExportRecord]) -> int:
        fh.write('{"@odata.context": ' + json.dumps(CONTEXT) + ', "value": [\n')
        count = 0
        for r in records:
            md5 = r.hashes.get("md5")
            if md5 is None:
                continue
            media: dict[str, Any] = {"MediaID": r.entry_id, "MD5": md5.hex().upper()}
            if "sha1" in r.hashes:
                media["SHA1"] = r.hashes["sha1"].hex().upper()
            vics = to_vics(r.category)  # none for ungraded entries, and for values outside the vocabulary
            if vics is not None:
                media["Category"] = vics
            media["VictimIdentified"] = bool(r.victim_identified)
            if r.series:
                media["Series"] = r.series
            if r.notes:
                media["Comments"] = r.notes
            if r.size is not None:
                media["MediaSize"] = r.size
            if r.media_type:
                media["MimeType"] = r.media_type
            media["IsPrecategorized"] = vics is not None
            fh.write((",\n" if count else "") + json.dumps(media, ensure_ascii=False))
            count += 1
        fh.write("\n]}\n")
        return count


def _record(m: Any, file: str, number: int) -> HashRecord:
    where = f"media record {number}"
    if not isinstance(m, dict):
        raise ImportFormatError(file, number, f"{where} is not an object")
    hashes = parse_hashes((("md5", m.get("MD5")), ("sha1", m.get("SHA1"))), file, number, where)
    if not hashes:
        raise ImportFormatError(file, number, f"{where} has neither MD5 nor SHA1")
    category = None
    if m.get("Category") not in (None, ""):
        try:
            category = VICS_TO_CODE[int(m["Category"])]
        except (KeyError, ValueError, TypeError):
            raise ImportFormatError(
                file, number, f"{where}: unknown VICS category {m['Category']!r}"
            ) from None
    size = m.get("MediaSize")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise ImportFormatError(file, number, f"{where}: MediaSize must be a whole number, got {size!r}")
    series = m.get("Series")
    notes = m.get("Comments")
    return HashRecord(
        line=number,
        hashes=hashes,
        category=category,
        series=str(series) if series not in (None, "") else None,
        victim_identified=_bool(m.get("VictimIdentified"), file, number, where),
        notes=str(notes) if notes not in (None, "") else None,
        size=size,
    )


def _bool(value: Any, file: str, number: int, where: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ImportFormatError(file, number, f"{where}: VictimIdentified must be true or false, got {value!r}")
