"""vigil.core.text: folded names, their scripts and hidden characters; names shown with such characters
escaped."""

from __future__ import annotations

from vigil.core.text import fold, hidden_characters, scripts, shown, shown_value


def test_fold_and_scripts() -> None:
    assert fold("Rev1") == fold("\uff32\uff45\uff56\uff11") == "rev1"
    assert fold("Stra\u00dfe") == "strasse"
    assert scripts("adm\u0456n") == {"LATIN", "CYRILLIC"}
    assert scripts("r\u00e9v-1_2") == {"LATIN"}
    assert len(scripts(fold("\u65e5\u672c\u304b\u306a\u30ab\u30ca"))) == 1  # Japanese mixes kanji and kana
    assert hidden_characters("a\u200bb\u00a0c\td") == ["U+200B", "U+00A0", "U+0009"]


def test_shown_escapes_invisible_and_direction_characters_only() -> None:
    assert shown("photo\u202egpj.exe") == "photo<U+202E>gpj.exe"
    assert shown("\u2066x\u2069\u200d\x1b\x00") == "<U+2066>x<U+2069><U+200D><U+001B><U+0000>"
    assert shown("caf\u00e9 \u65e5\u672c a\tb\nc\r") == "caf\u00e9 \u65e5\u672c a\tb\nc\r"
    assert shown_value(None) is None and shown_value(3) == 3
