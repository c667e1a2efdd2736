"""Matching: a snapshot of the store's known hashes (exact tables + perceptual indexes) answering which
entries a file's or a caller's hashes match, for the scan and the matching API alike.

- `Matcher` (matcher.py): the snapshot; `Matcher.match` for one hashed file (rotations and flips, vPDQ),
  `Matcher.lookup_many` for a batch of bare hashes;
- `Match`, `verdict` (matches.py): one hit, and what a file's hits add up to;
- `ExactTable`, `EntryTable` (tables.py): the compact arrays the snapshot is made of.
"""

from vigil.match.matcher import Described, Found, Matcher
from vigil.match.matches import CATEGORY_ORDER, Match, rank, verdict
from vigil.match.tables import EntryTable, ExactTable

__all__ = [
    "CATEGORY_ORDER",
    "Described",
    "EntryTable",
    "ExactTable",
    "Found",
    "Match",
    "Matcher",
    "rank",
    "verdict",
]
