"""Turn one item into its result record. Runs in worker processes; touches no database.

The per-process state (limits and the store snapshot) is set once by `init()`; with the fork start
method the snapshot is shared copy-on-write with the parent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vigil import signals
from vigil.hashing import hash_file
from vigil.media import DecodeLimits
from vigil.scan.matcher import Matcher, verdict
from vigil.scan.walker import Item


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    limits: DecodeLimits
    perceptual: bool


_state: tuple[WorkerConfig, Matcher] | None = None


def init(config: WorkerConfig, matcher: Matcher) -> None:
    global _state
    _state = (config, matcher)


def process(item: Item) -> dict[str, Any]:
    assert _state is not None, "worker used before init()"  # programming error, not input
    config, matcher = _state
    return process_with(item, config, matcher)


def process_with(item: Item, config: WorkerConfig, matcher: Matcher) -> dict[str, Any]:
    record = empty_record(item.path, item.size, item.deleted)
    try:
        hashes = hash_file(
            item.fs_path, config.limits, perceptual=config.perceptual, skip_decode=matcher.is_known_good
        )
    except OSError as exc:
        record["error"] = f"cannot read file: {exc.strerror or exc}"
        return record
    record.update(hashes.as_fields())
    matches = matcher.match(hashes)
    failed = hashes.error is not None
    record["status"] = "error" if failed else "ok"
    record["error"] = hashes.error
    record["verdict"] = verdict(matches, failed)
    record["matches"] = [m.as_dict() for m in matches]
    return record


def empty_record(
    path: str, size: int | None, deleted: bool = False, error: str | None = None
) -> dict[str, Any]:
    """The record of an item that could not be hashed; also fixes the key order of every record."""
    record: dict[str, Any] = {"path": path, "size": size}
    for signal in signals.all_signals():
        record[signal.name] = None
        if signal.kind == "image":
            record[f"{signal.name}_quality"] = None
    record.update(
        {
            "media_type": None,
            "deleted": deleted,
            "status": "error",
            "error": error,
            "verdict": "error",
            "matches": [],
        }
    )
    return record
