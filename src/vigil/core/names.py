"""File names that are not valid UTF-8, as seized media are full of (Latin-1 folders, cp1252 tar members).

Inside vigil a path is a `str`; a byte of a name that is not valid UTF-8 is carried the way Python's
``os`` and ``tarfile`` give it, as a lone surrogate (``surrogateescape``: byte 0xFF is ``'\\udcff'``).
Such a string cannot be written as UTF-8 text, so what vigil writes out is

- the *display form*: the name as UTF-8 text, each undecodable byte shown as ``\\xNN`` (a literal
  backslash) — what reports, summary.json and the store show; and
- the raw bytes, base64 (``path_b64``), next to it wherever the name is not valid UTF-8, so nothing is
  lost: `from_fields` gives back the exact string the walker produced.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any


def raw_bytes(name: str) -> bytes:
    """The name's bytes on disk (or in the archive): UTF-8, each escaped byte put back as it was."""
    try:
        return name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no decoder of bytes makes (e.g. from broken UTF-16)
        return name.encode("utf-8", "surrogatepass")


def is_clean(name: str) -> bool:
    """True if the name is valid Unicode text (no escaped bytes), so it can be written as it is."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def display(name: str) -> str:
    """The name as UTF-8 text, each byte that is not valid UTF-8 shown as ``\\xNN``."""
    if is_clean(name):
        return name
    return raw_bytes(name).decode("utf-8", "backslashreplace")


def to_fields(name: str, key: str = "path") -> dict[str, str]:
    """``{key: display form}``, plus ``{key}_b64`` (the raw bytes, base64) when the name is not clean."""
    if is_clean(name):
        return {key: name}
    return {key: display(name), f"{key}_b64": base64.b64encode(raw_bytes(name)).decode("ascii")}


def from_fields(data: Mapping[str, Any], key: str = "path") -> str:
    """`to_fields`' inverse: the name as vigil carries it (escaped bytes as surrogates)."""
    encoded = data.get(f"{key}_b64")
    if encoded is None:
        return str(data[key])
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError, TypeError):
        return str(data[key])
    return raw.decode("utf-8", "surrogateescape")
