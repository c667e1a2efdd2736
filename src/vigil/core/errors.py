"""Exceptions that carry a reason a user can act on."""

from __future__ import annotations


class VigilError(Exception):
    """Base class: every vigil error has a one-line human reason."""


class HashError(VigilError):
    """A signal could not be computed for an item (the reason says why)."""


class ImportFormatError(VigilError):
    """A hash-set file has a bad line; nothing from the file was imported."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        self.file = file
        self.line = line
        self.reason = reason
        super().__init__(f"{file}:{line}: {reason}")


class StoreError(VigilError):
    """The store refused an operation (unknown database, schema too old, ...)."""
