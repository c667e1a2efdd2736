"""The records passed between stages: what a hash-set file says about a known item (`HashRecord`), an
entry of the store as exported (`ExportRecord`)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from vigil.core import names


@dataclass(frozen=True, slots=True)
class HashRecord:
    """One known item as a hash-set file describes it."""

    line: int
    hashes: dict[str, bytes]
    quality: dict[str, int] = field(default_factory=dict)
    category: str | None = None
    series: str | None = None
    victim_identified: bool | None = None
    source: str | None = None
    notes: str | None = None
    size: int | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ExportRecord:
    """One entry of the store, as exported."""

    entry_id: int
    hashes: dict[str, bytes]
    quality: dict[str, int]
    category: str | None
    series: str | None
    victim_identified: bool
    source: str | None
    notes: str | None
    size: int | None
    media_type: str | None
    status: str = "active"


class AsDict:
    """For dataclasses whose JSON form is just their fields: ``as_dict()`` gives them as a dict, in field
    order (nested values are kept as they are; give them an ``as_dict`` of their own if they need one)."""

    __slots__ = ()

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]


PATH_FIELDS = ("path", "path_b64")
ITEM_FIELDS_AFTER_HASHES = ("media_type", "deleted", "status", "error", "verdict", "matches")


@dataclass(slots=True)
class ItemRecord:
    """One logical file of a scan, as the workers hand it to the journal and items.jsonl holds it
    (DESIGN.md §5). `hashes` holds every signal's hex value (None where not computed) in the signals'
    order, `quality` the image signals' qualities; `matches` are the matcher's matches, best first, in
    their JSON form. Mutable: a worker fills it in as it learns about the file."""

    path: str
    size: int | None
    hashes: dict[str, str | None] = field(default_factory=dict)
    quality: dict[str, int | None] = field(default_factory=dict)
    media_type: str | None = None
    deleted: bool = False
    status: str = "error"
    error: str | None = None
    verdict: str = "error"
    matches: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # keys of a newer vigil's items.jsonl, kept as read

    def fail(self, reason: str) -> None:
        """Something about the item went wrong after it was hashed (e.g. a container it could not open):
        the reason is added to its error, and an item nothing matched becomes an error item."""
        self.status = "error"
        self.error = f"{self.error}; {reason}" if self.error else reason
        if self.verdict == "unknown":
            self.verdict = "error"

    def as_json(self) -> dict[str, Any]:
        """The items.jsonl object: path (its display form, and path_b64 with the raw bytes when the name
        is not valid UTF-8: `vigil.core.names`), size, each signal (an image signal followed by its
        quality), media_type, deleted, status, error, verdict, matches — in that order."""
        out: dict[str, Any] = names.to_fields(self.path)
        out["size"] = self.size
        for name, value in self.hashes.items():
            out[name] = value
            if name in self.quality:
                out[f"{name}_quality"] = self.quality[name]
        out.update(
            media_type=self.media_type,
            deleted=self.deleted,
            status=self.status,
            error=names.display(self.error) if self.error else self.error,  # may quote a member's name
            verdict=self.verdict,
            matches=self.matches,
        )
        out.update(self.extra)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ItemRecord:
        """The record an items.jsonl object describes (`as_json`'s inverse): the signals are the keys
        between ``size`` and ``media_type``; keys this version does not know are kept in `extra`."""
        hashes: dict[str, str | None] = {}
        quality: dict[str, int | None] = {}
        keys = list(data)
        first = keys.index("size") + 1 if "size" in data else 1
        last = keys.index("media_type") if "media_type" in data else first
        for key in keys[first:last]:
            if key in PATH_FIELDS:
                continue
            name = key.removesuffix("_quality")
            if name != key and name in hashes:
                quality[name] = data[key]
            else:
                hashes[key] = data[key]
        known = {*PATH_FIELDS, "size", *keys[first:last], *ITEM_FIELDS_AFTER_HASHES}
        extra = {key: value for key, value in data.items() if key not in known}
        return cls(
            path=names.from_fields(data),
            size=data.get("size"),
            hashes=hashes,
            quality=quality,
            media_type=data.get("media_type"),
            deleted=bool(data.get("deleted", False)),
            status=data["status"],
            error=data.get("error"),
            verdict=data["verdict"],
            matches=list(data.get("matches") or []),
            extra=extra,
        )
