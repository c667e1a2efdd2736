"""CSV cells safe to open in a spreadsheet (formula injection), shared by every CSV vigil writes.

Evidence file names, and series, source or notes imported from other parties, are chosen by whoever made
them, and spreadsheets run a cell starting with `=`, `+`, `-` or `@` (also tab or carriage return) as a
formula. `quote_text` writes such a cell with a leading single quote (`=cmd|...` becomes `'=cmd|...`), as
OWASP recommends and forensic tools commonly do. A text that already starts with quotes followed by one of
these characters gets one more quote, so `unquote_text` gives back exactly the text written: vigil's own CSV
export reads back unchanged.
"""

from __future__ import annotations

from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def quote_text(text: str) -> str:
    """`text` with a leading `'` when a spreadsheet would run it (or when it would read as quoted)."""
    return "'" + text if text.lstrip("'").startswith(FORMULA_PREFIXES) else text


def unquote_text(text: str) -> str:
    """The text `quote_text` was given: one leading `'` dropped where `quote_text` added it."""
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


def safe_cell(value: Any) -> str | int | float:
    """A CSV cell: None is empty, booleans are true/false, numbers as they are, text through `quote_text`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    return quote_text(str(value))
