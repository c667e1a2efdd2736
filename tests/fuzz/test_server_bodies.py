"""The matching API's two body parsers on random and mutated bodies: a lookup body parses or raises
BodyError; a multipart upload is read or raises UploadError — nothing else escapes. (The lookup parser's
agreement with value-by-value checking is tested in tests/server/test_body.py.)"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.fuzzing import FUZZ, mutated, random_input
from vigil.server.body import BodyError, parse_lookup
from vigil.server.upload import UploadError, read_upload

LOOKUP = json.dumps(
    {"hashes": [{"signal": "md5", "value": "0f" * 16}, {"signal": "pdq", "value": "9c" * 32}]}
).encode()
BOUNDARY = "fuzzboundary42"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
UPLOAD = (
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="note"\r\n\r\n'
    "benign text\r\n"
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="file"; filename="a.png"\r\n'
    "Content-Type: image/png\r\n\r\n"
    "\x89PNG made-up bytes\r\n"
    f"--{BOUNDARY}--\r\n"
).encode("latin-1")


def parse_or_refuse(raw: bytes) -> None:
    try:
        parse_lookup(raw)
    except BodyError as exc:
        assert str(exc) and "\n" not in str(exc)


def upload_or_refuse(content_type: str | None, raw: bytes, chunk: int) -> None:
    async def body() -> AsyncIterator[bytes]:
        for i in range(0, len(raw), chunk):
            yield raw[i : i + chunk]

    try:
        asyncio.run(read_upload(content_type, body(), field="file", max_bytes=64))
    except UploadError as exc:
        assert exc.status in (413, 422) and str(exc)


def test_the_seeds_parse() -> None:
    assert len(parse_lookup(LOOKUP)) == 2

    async def body() -> AsyncIterator[bytes]:
        yield UPLOAD

    upload = asyncio.run(read_upload(CONTENT_TYPE, body(), field="file", max_bytes=64))
    assert (upload.filename, upload.content_type, upload.data) == (
        "a.png",
        "image/png",
        b"\x89PNG made-up bytes",
    )


@FUZZ
@given(raw=random_input() | mutated(LOOKUP))
def test_lookup_bodies_parse_or_are_refused(raw: bytes) -> None:
    parse_or_refuse(raw)


@FUZZ
@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
        max_leaves=20,
    )
)
def test_any_json_under_hashes_parses_or_is_refused(value: object) -> None:
    parse_or_refuse(json.dumps({"hashes": value}).encode())


@pytest.mark.parametrize("chunk", [1, 7, 4096])
@FUZZ
@given(raw=random_input() | mutated(UPLOAD))
def test_uploads_are_read_or_refused(chunk: int, raw: bytes) -> None:
    upload_or_refuse(CONTENT_TYPE, raw, chunk)


@FUZZ
@given(
    content_type=st.none()
    # Starlette decodes header values as latin-1, so that is all a content type can hold.
    | st.text(st.characters(max_codepoint=255), max_size=60)
    | st.just(CONTENT_TYPE).map(lambda c: c + ";;charset")
)
def test_odd_content_types_are_refused_or_read(content_type: str | None) -> None:
    upload_or_refuse(content_type, UPLOAD, 4096)
