"""The records passed between stages: what a hash-set file says about a known item (`HashRecord`), an
entry of the store as exported (`ExportRecord`)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


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
