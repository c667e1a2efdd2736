"""Perceptual nearest-neighbour search over fixed-length binary hashes (PDQ, vPDQ frames)."""

from vigil.index.brute import BruteForceIndex

__all__ = ["BruteForceIndex"]
