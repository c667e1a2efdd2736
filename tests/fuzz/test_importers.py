"""Every hash-set importer, fed random input and mutations of a valid file: it yields records or raises a
VigilError (ImportFormatError, with file and line) — never any other exception."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.fuzzing import FUZZ, mutated, random_input, seed
from vigil import exchange
from vigil.core.errors import VigilError

FORMATS = ("csv", "md5sum", "sha1sum", "sha256sum", "hashdeep", "te", "vics", "vpdq")


def read_or_refuse(fmt: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input.{fmt}"
        path.write_bytes(data)
        try:
            records = exchange.read_file(path, exchange.get(fmt))
        except VigilError as exc:
            assert str(exc).strip() and "\n" not in str(exc).strip(), repr(str(exc))
            return
        assert all(r.hashes for r in records)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_seed_reads(fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"seed.{fmt}"
        path.write_bytes(seed(f"seed.{fmt}"))
        assert exchange.read_file(path, exchange.get(fmt))


@pytest.mark.parametrize("fmt", FORMATS)
@FUZZ
@given(data=random_input())
def test_random_input_is_read_or_refused(fmt: str, data: bytes) -> None:
    read_or_refuse(fmt, data)


@pytest.mark.parametrize("fmt", FORMATS)
@FUZZ
@given(data=st.data())
def test_mutated_files_are_read_or_refused(fmt: str, data: st.DataObject) -> None:
    read_or_refuse(fmt, data.draw(mutated(seed(f"seed.{fmt}"))))
