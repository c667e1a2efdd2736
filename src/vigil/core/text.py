"""Unicode text that people read: user names that cannot pass for one another, and names (file paths)
shown without the invisible characters that would make them lie.

`shown` is for display only (pages, report.html, report.csv): a file called ``photo<U+202E>gpj.exe`` would
otherwise read as ``photoexe.jpg``. The raw name stays in the data (items.jsonl, the store).

Scripts are told apart by the first word of each letter's Unicode character name (LATIN, CYRILLIC, GREEK,
...), which is how the Unicode database names them; digits, punctuation and combining marks belong to no
script (Unicode's Common and Inherited). Han, Hiragana, Katakana and Hangul count as one script, as
Japanese and Korean writing mixes them.
"""

from __future__ import annotations

import unicodedata

# Control, format (zero-width, bidi), surrogate, private-use, unassigned; and every kind of space.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})
# Shown escaped: format characters (bidi overrides and isolates, zero-width), line/paragraph separators,
# lone surrogates (undecodable bytes) and controls other than tab, newline and carriage return (which CSV
# quotes and HTML shows as white space).
ESCAPED_CATEGORIES = frozenset({"Cf", "Zl", "Zp", "Cs", "Cc"})
KEPT_CONTROLS = frozenset("\t\n\r")
EAST_ASIAN = frozenset({"CJK", "HIRAGANA", "KATAKANA", "KATAKANA-HIRAGANA", "HANGUL", "IDEOGRAPHIC"})


def fold(name: str) -> str:
    """The form names are compared in: NFKC, then case-folded (``Rev1`` and ``ｒｅｖ１`` give ``rev1``)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def hidden_characters(text: str) -> list[str]:
    """The invisible characters in `text` (controls, zero-width and bidi formats, spaces), as U+XXXX."""
    return [f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in HIDDEN_CATEGORIES]


def script_of(char: str) -> str | None:
    """The script of a letter (``LATIN``, ``CYRILLIC``, ...); None for anything else."""
    if not unicodedata.category(char).startswith("L"):
        return None
    word = unicodedata.name(char, "UNKNOWN").split()[0]
    return "EAST-ASIAN" if word in EAST_ASIAN else word


def scripts(text: str) -> set[str]:
    """The scripts of the letters in `text`: more than one means a mixed-script name."""
    return {s for s in map(script_of, text) if s is not None}


def shown(text: str) -> str:
    """`text` for display, each invisible or direction-changing character written as ``<U+XXXX>``."""
    return "".join(
        f"<U+{ord(c):04X}>" if unicodedata.category(c) in ESCAPED_CATEGORIES and c not in KEPT_CONTROLS else c
        for c in text
    )


def shown_value(value: object) -> object:
    """`shown` for text, anything else (None, numbers) as it is: the templates' ``shown`` filter."""
    return shown(value) if isinstance(value, str) else value
