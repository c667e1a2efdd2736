"""Perceptual nearest-neighbour search over 256-bit binary hashes (PDQ, vPDQ frames).

`PDQIndex` is the memory-mapped exact multi-index the scanner and server use; `BruteForceIndex` the
reference it is tested against; `sync` keeps an index in step with the store.
"""

from vigil.index.brute import BruteForceIndex
from vigil.index.mih import PDQIndex

__all__ = ["BruteForceIndex", "PDQIndex"]
