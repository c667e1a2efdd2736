"""The category vocabulary (DESIGN.md §3) and its mappings to exchange formats.

Category names are data: short codes with a neutral description, nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    meaning: str
    vics: int


CATEGORIES: dict[str, Category] = {
    c.code: c
    for c in (
        Category("A", "UK sentencing category A (most severe)", 1),
        Category("B", "UK sentencing category B", 1),
        Category("C", "UK sentencing category C", 1),
        Category("I", "indecent, severity not yet graded", 1),
        Category("X", "child exploitive / age difficult, not indecent", 2),
        Category("P", "prohibited non-photographic (CGI, animation, drawings)", 3),
        Category("N", "comparison / non-indecent material of interest", 4),
        Category("G", "known-good / non-pertinent", 0),
    )
}

KNOWN_GOOD = "G"

# Project VIC VICS category number -> vigil code, for imports that carry no UK grade.
VICS_TO_CODE: dict[int, str] = {1: "I", 2: "X", 3: "P", 4: "N", 0: "G"}


def parse_category(value: str) -> str:
    """Return the canonical code for `value` (case-insensitive) or raise ValueError naming the vocabulary."""
    code = value.strip().upper()
    if code not in CATEGORIES:
        raise ValueError(f"unknown category {value!r} (expected one of {', '.join(CATEGORIES)})")
    return code


def graded(code: object) -> str | None:
    """`code` when it is a category of the vocabulary, else None (ungraded): what exporters, reports and
    the matcher make of a value outside the vocabulary that found its way into a store."""
    return code if isinstance(code, str) and code in CATEGORIES else None


def to_vics(code: object) -> int | None:
    """The VICS category number of `code`; None for no category or one outside the vocabulary."""
    known = graded(code)
    return CATEGORIES[known].vics if known is not None else None
