"""`POST /api/v1/lookup` bodies, parsed without a pydantic object per hash.

A 10,000-hash body through pydantic costs more than looking the hashes up, so the body is decoded with orjson
and checked here against the same shape as `LookupIn` (an object with a list `hashes` of objects with string
`signal` and `value`; other keys ignored), with a reason for every refusal. The common case — every value
well-formed — is checked a signal at a time: one length check a value and one `bytes.fromhex` over the joined
values. Anything else goes through the value-by-value path, which finds the first bad hash and says why.
"""

from __future__ import annotations

from typing import Any

import orjson

from vigil import signals

MAX_HASHES = 10_000
LOOKUP_SIGNALS = ("md5", "sha1", "sha256", "pdq")
_SIZES = {name: signals.get(name).size for name in LOOKUP_SIGNALS}


class BodyError(ValueError):
    """A request body that cannot be looked up; the message is the reason (answered with 422)."""


def parse_lookup(raw: bytes) -> list[tuple[str, bytes]]:
    """(signal, value) for each hash of a lookup body, in request order."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BodyError(f"body: not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise BodyError('body: must be a JSON object {"hashes": [...]}')
    if "hashes" not in doc:
        raise BodyError("hashes: field required")
    hashes = doc["hashes"]
    if not isinstance(hashes, list):
        raise BodyError("hashes: must be a list")
    if len(hashes) > MAX_HASHES:
        raise BodyError(f"hashes: at most {MAX_HASHES} hashes a request, got {len(hashes)}")
    return parse_hashes(hashes)


def parse_hashes(items: list[Any]) -> list[tuple[str, bytes]]:
    """Validate `{"signal": ..., "value": ...}` objects and decode their values."""
    fast = _parse_well_formed(items)
    return fast if fast is not None else [_parse_one(i, item) for i, item in enumerate(items)]


def _parse_well_formed(items: list[Any]) -> list[tuple[str, bytes]] | None:
    """The hashes when every item is a well-formed object with a known signal name and a value of exactly
    the right length in hex; None when any is not (the caller then finds which, and why)."""
    try:
        names = [item["signal"] for item in items]
        values = [item["value"] for item in items]
    except (TypeError, KeyError):  # not an object, or a key missing
        return None
    if not all(type(v) is str for v in values):
        return None
    decoded: list[bytes] = [b""] * len(items)
    for name in set(names):
        size = _SIZES.get(name) if type(name) is str else None
        if size is None:  # unknown, or in another case / with spaces: the slow path normalises it
            return None
        rows = [i for i, n in enumerate(names) if n == name]
        width = 2 * size
        if not all(len(values[i]) == width for i in rows):
            return None
        try:
            # All values exactly 2*size characters: fromhex yields exactly size bytes each unless one has
            # whitespace (fewer bytes) or a non-hex character (ValueError).
            packed = bytes.fromhex("".join([values[i] for i in rows]))
        except ValueError:
            return None
        if len(packed) != size * len(rows):
            return None
        for j, i in enumerate(rows):
            decoded[i] = packed[j * size : (j + 1) * size]
    return list(zip(names, decoded, strict=True))


def _parse_one(i: int, item: Any) -> tuple[str, bytes]:
    if not isinstance(item, dict):
        raise BodyError(f'hashes[{i}]: must be an object {{"signal": ..., "value": ...}}')
    for field in ("signal", "value"):
        if field not in item:
            raise BodyError(f"hashes[{i}].{field}: field required")
        if not isinstance(item[field], str):
            raise BodyError(f"hashes[{i}].{field}: must be a string")
    signal, value = item["signal"], item["value"]
    name = signal.strip().lower()
    if name not in _SIZES:
        raise BodyError(f"hashes[{i}]: unknown signal {signal!r} (known: {', '.join(LOOKUP_SIGNALS)})")
    try:
        return name, signals.get(name).parse(value.lower())
    except ValueError as exc:
        raise BodyError(f"hashes[{i}]: {exc}") from None
