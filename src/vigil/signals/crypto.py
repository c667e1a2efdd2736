"""Whole-file cryptographic hashes: equality matching, fed from one streaming read."""

from __future__ import annotations

import hashlib
from typing import ClassVar

from vigil.signals.base import Hasher, StreamSignal


class _HashlibSignal(StreamSignal):
    algorithm: ClassVar[str]

    def new_hasher(self) -> Hasher:
        return hashlib.new(self.algorithm)


class MD5Signal(_HashlibSignal):
    name = "md5"
    algorithm = "md5"
    size = 16
    examples = ("d41d8cd98f00b204e9800998ecf8427e",)


class SHA1Signal(_HashlibSignal):
    name = "sha1"
    algorithm = "sha1"
    size = 20
    examples = ("da39a3ee5e6b4b0d3255bfef95601890afd80709",)


class SHA256Signal(_HashlibSignal):
    name = "sha256"
    algorithm = "sha256"
    size = 32
    examples = ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",)
