"""Readable text out of what pytsk3 and pyewf hand back: their error messages and TSK's names."""

from __future__ import annotations

import re
from typing import Any

_TSK_LOCATION = re.compile(r"\w+: \(tsk3\.cpp:\d+\) ")


def reason(exc: BaseException) -> str:
    """One readable line out of a pytsk3/pyewf error (they carry C source locations and newlines)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = _TSK_LOCATION.sub("", text)
    return text if len(text) <= 240 else text[:237] + "..."


def as_text(value: Any) -> str:
    """TSK names and link targets come as bytes (UTF-8 after TSK's own conversion) or str."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return "" if value is None else str(value)
