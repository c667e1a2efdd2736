"""Lookup bodies parsed without pydantic: the same answers and reasons as value-by-value checking."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.server.body import MAX_HASHES, BodyError, _parse_one, parse_hashes, parse_lookup

MD5 = "0f" * 16
SHA1 = "ab" * 20
PDQ = "9c" * 32


def test_well_formed_bodies_decode_in_request_order() -> None:
    body = {
        "hashes": [
            {"signal": "pdq", "value": PDQ},
            {"signal": "md5", "value": MD5.upper()},
            {"signal": "sha1", "value": SHA1, "x": 1},
        ]
    }
    assert parse_lookup(json.dumps(body).encode()) == [
        ("pdq", bytes.fromhex(PDQ)),
        ("md5", bytes.fromhex(MD5)),
        ("sha1", bytes.fromhex(SHA1)),
    ]
    assert parse_lookup(b'{"hashes": []}') == []


def test_loose_values_are_normalised_as_before() -> None:
    assert parse_hashes([{"signal": " SHA1 ", "value": f"  {SHA1.upper()}\n"}]) == [
        ("sha1", bytes.fromhex(SHA1))
    ]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "body: not valid JSON"),
        (b"[1, 2]", "body: must be a JSON object"),
        (b'{"nothing": []}', "hashes: field required"),
        (b'{"hashes": {"signal": "md5"}}', "hashes: must be a list"),
        (b'{"hashes": [3]}', "hashes[0]: must be an object"),
        (b'{"hashes": [{"value": "00"}]}', "hashes[0].signal: field required"),
        (b'{"hashes": [{"signal": "md5", "value": 7}]}', "hashes[0].value: must be a string"),
        (b'{"hashes": [{"signal": "photodna", "value": "00"}]}', "hashes[0]: unknown signal 'photodna'"),
        (
            json.dumps(
                {"hashes": [{"signal": "md5", "value": MD5}, {"signal": "md5", "value": "zz" * 16}]}
            ).encode(),
            "hashes[1]: md5 value is not hexadecimal",
        ),
        (
            json.dumps({"hashes": [{"signal": "md5", "value": "00" * 15}]}).encode(),
            "hashes[0]: md5 value must be 32 hex digits, got 30",
        ),
        (
            json.dumps({"hashes": [{"signal": "md5", "value": "0" * 31 + " "}]}).encode(),
            "must be 32 hex digits, got 31",
        ),
        (json.dumps({"hashes": [{"signal": "md5", "value": "00 " + "0" * 29}]}).encode(), "not hexadecimal"),
        (json.dumps({"hashes": [{"signal": "md5", "value": MD5}] * (MAX_HASHES + 1)}).encode(), "10000"),
    ],
)
def test_bad_bodies_say_why(raw: bytes, reason: str) -> None:
    with pytest.raises(BodyError, match=None) as caught:
        parse_lookup(raw)
    assert reason in str(caught.value)


HEXISH = st.text(alphabet="0123456789abcdefABCDEF \tgz\u00e9", min_size=0, max_size=70)
ITEM = st.one_of(
    st.fixed_dictionaries(
        {"signal": st.sampled_from(["md5", "sha1", "sha256", "pdq", "PDQ", " md5", "tlsh"]), "value": HEXISH}
    ),
    st.fixed_dictionaries({"signal": st.sampled_from(["md5", "sha1"])}),
    st.integers(),
)


@given(st.lists(ITEM, max_size=8), st.data())
def test_the_fast_path_answers_as_value_by_value_checking(items: list[object], data: st.DataObject) -> None:
    # Make most cases well-formed, so both the fast path and the fallback are exercised.
    if data.draw(st.booleans()):
        items = [{"signal": "sha1", "value": SHA1}] * data.draw(st.integers(0, 3)) + items
    try:
        expected: list[tuple[str, bytes]] | str = [_parse_one(i, item) for i, item in enumerate(items)]
    except BodyError as exc:
        expected = str(exc)
    try:
        got: list[tuple[str, bytes]] | str = parse_hashes(items)
    except BodyError as exc:
        got = str(exc)
    assert got == expected
