"""Archive readers on mutated real containers (a zip and a tar, plain and gzipped, built here with the
standard library): listing and reading every member ends in data or in ContainerError / LimitExceeded /
OSError — the errors the scanner turns into error items — never in anything else."""

from __future__ import annotations

import contextlib
import gzip
import io
import struct
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz.fuzzing import FUZZ, mutated, random_input
from vigil.sources import HEAD_BYTES, ContainerError, LimitExceeded, Limits, Member, detect, locator

FILES = {"a.txt": b"hello, benign world\n" * 4, "dir/b.bin": bytes(range(64)), "c.txt": b"x"}


def make_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i, (name, data) in enumerate(FILES.items()):
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if i % 2 == 0 else zipfile.ZIP_STORED
            zf.writestr(info, data)
    return buf.getvalue()


def make_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, data in FILES.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1_700_000_000
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


SEEDS = {
    "seed.zip": make_zip(),
    "seed.tar": make_tar(),
    "seed.tar.gz": gzip.compress(make_tar(), mtime=0),
}


def open_all(name: str, data: bytes) -> dict[str, bytes]:
    """Every member's bytes, as the scanner would read them; the allowed errors propagate."""
    kind = detect(data[:HEAD_BYTES], name)
    if kind is None:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        container = kind(io.BytesIO(data), name, Limits(spill_dir=tmp), None)
        try:
            out = {}
            for entry in container.entries():
                if isinstance(entry, Member):
                    with entry.open() as fh:
                        out[entry.name] = fh.read()
            return out
        finally:
            container.close()


def read_or_refuse(name: str, data: bytes) -> None:
    with contextlib.suppress(ContainerError, LimitExceeded, OSError):
        open_all(name, data)


@pytest.mark.parametrize("name", SEEDS)
def test_the_seeds_read(name: str) -> None:
    assert open_all(name, SEEDS[name]) == FILES


@pytest.mark.parametrize("name", SEEDS)
@FUZZ
@given(data=st.data())
def test_mutated_archives_are_read_or_refused(name: str, data: st.DataObject) -> None:
    read_or_refuse(name, data.draw(mutated(SEEDS[name])))


@pytest.mark.parametrize("name", SEEDS)
@FUZZ
@given(data=random_input())
@example(data=b"")  # a .gz cut inside its header: EOFError escaped the member read
def test_random_bytes_named_as_archives_are_read_or_refused(name: str, data: bytes) -> None:
    read_or_refuse(name, SEEDS[name][:8] + data)


# ---- what the fuzzing found: each of these escaped as a library exception (and broke locator reads) ----


def zip_bad_local_offset() -> bytes:
    z = bytearray(make_zip())
    at = z.index(b"PK\x01\x02") + 42  # the first member's local header offset, in the central directory
    z[at : at + 4] = struct.pack("<I", 0xFFFFFFF0)
    return bytes(z)


def zip_unknown_version() -> bytes:
    z = bytearray(make_zip())
    z[z.index(b"PK\x01\x02") + 6] = 84  # "version needed to extract" 8.4: NotImplementedError
    return bytes(z)


def gzip_bad_deflate() -> bytes:
    g = bytearray(gzip.compress(make_tar(), mtime=0))
    g[10] |= 0x06  # the first deflate block gets the reserved block type: zlib.error
    return bytes(g)


def gzip_cut_header() -> bytes:
    return gzip.compress(b"", mtime=0)[:8]  # EOFError while reading the member


CRASHERS = {
    "zip_bad_local_offset.zip": (zip_bad_local_offset, "cannot read zip member 'a.txt'"),
    "zip_unknown_version.zip": (zip_unknown_version, "cannot read zip archive: zip file version 8.4"),
    "gzip_bad_deflate.tar.gz": (gzip_bad_deflate, "corrupt member data: Error -3"),
    "gzip_cut_header.gz": (gzip_cut_header, "corrupt member data: Compressed file ended"),
}


@pytest.mark.parametrize("name", CRASHERS)
def test_corrupt_archives_found_by_fuzzing_are_container_errors(name: str) -> None:
    build, reason = CRASHERS[name]
    with pytest.raises(ContainerError, match=None) as caught:
        open_all(name, build())
    assert reason in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("name", CRASHERS)
def test_the_locator_answers_none_for_them(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(CRASHERS[name][0]())
    member = "a.txt" if name.endswith(".zip") else ("a.txt" if ".tar" in name else "gzip_cut_header")
    assert locator.read_evidence(locator.join(str(path), member)) is None
