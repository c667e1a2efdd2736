"""The signal interface: registry, parsing and formatting, distances, stream hashers and the PDQ wrapper."""

from __future__ import annotations

import hashlib
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vigil.signals as signals
from vigil.signals import HashResult, ImageSignal, StreamSignal, get
from vigil.signals.crypto import MD5Signal
from vigil.signals.pdq import bits_to_bytes

CORE = {"md5": 16, "sha1": 20, "sha256": 32, "pdq": 32}
STREAM = ["md5", "sha1", "sha256"]

# PDQ values published upstream (pdq/java/src/test/java/hasher/pdqhashing/PDQHasherTest.java): the hashes of
# bridge-1-original.jpg and bridge-2-rotate-90.jpg, which that test asserts are 120 bits apart.
BRIDGE_1 = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
BRIDGE_2_ROT90 = "30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af"
# The C++ README's (older) value for bridge-1-original.jpg: 8 bits from the value above.
BRIDGE_1_CPP_README = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"


# registry ---------------------------------------------------------------------------------------------------


def test_registry_has_the_core_signals() -> None:
    assert set(CORE) <= set(signals.names())
    for name, size in CORE.items():
        signal = get(name)
        assert signal.name == name
        assert signal.size == size
    assert {s.name for s in signals.stream_signals()} >= set(STREAM)
    assert "pdq" in {s.name for s in signals.image_signals()}
    assert all(isinstance(s, StreamSignal) and s.kind == "stream" for s in signals.stream_signals())
    assert all(isinstance(s, ImageSignal) and s.kind == "image" for s in signals.image_signals())
    assert {s.name for s in signals.all_signals()} == set(signals.names())


def test_match_rules() -> None:
    for name in STREAM:
        assert get(name).threshold == 0 and get(name).exact
    pdq = get("pdq")
    assert (pdq.threshold, pdq.min_quality, pdq.exact) == (31, 50, False)


def test_unknown_signal_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown signal 'photodna' \(known: .*md5.*pdq"):
        get("photodna")


def test_register(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signals, "_REGISTRY", dict(signals._REGISTRY))

    class Other(MD5Signal):  # a different implementation claiming an existing name
        pass

    signals.register(MD5Signal())  # the same type again is a no-op
    with pytest.raises(ValueError, match="already registered as 'md5'"):
        signals.register(Other())

    class Plugin(MD5Signal):
        name = "plugin"

    signals.register(Plugin())
    assert get("plugin").name == "plugin" and "plugin" in signals.names()


# parse / format ---------------------------------------------------------------------------------------------


WRONG_LENGTHS = [
    pytest.param(name, length, id=f"{name}-{length}")
    for name, size in CORE.items()
    for length in sorted({0, 1, size * 2 - 2, size * 2 - 1, size * 2 + 1, size * 2 + 2, size * 4})
]


@pytest.mark.parametrize(("name", "length"), WRONG_LENGTHS)
def test_parse_rejects_wrong_length(name: str, length: int) -> None:
    signal = get(name)
    with pytest.raises(
        ValueError, match=rf"^{name} value must be {signal.size * 2} hex digits, got {length}$"
    ):
        signal.parse("a" * length)


@pytest.mark.parametrize("name", list(CORE))
@pytest.mark.parametrize("bad", ["g", "x", "-", "é", "0x"])
def test_parse_rejects_non_hex(name: str, bad: str) -> None:
    signal = get(name)
    text = bad + "0" * (signal.size * 2 - len(bad))
    with pytest.raises(ValueError, match=rf"^{name} value is not hexadecimal: "):
        signal.parse(text)


@pytest.mark.parametrize("name", list(CORE))
def test_parse_rejects_inner_whitespace(name: str) -> None:
    signal = get(name)
    text = "ab " + "cd" * (signal.size - 3) + " ef"  # the expected length, but 2 of it are spaces
    assert len(text) == signal.size * 2
    with pytest.raises(ValueError, match="not hexadecimal"):
        signal.parse(text)


@pytest.mark.parametrize("name", list(CORE))
def test_format_round_trip(name: str) -> None:
    signal = get(name)
    rng = np.random.default_rng(len(name))
    for _ in range(20):
        value = rng.bytes(signal.size)
        text = signal.format(value)
        assert text == value.hex() and len(text) == signal.size * 2
        assert signal.parse(text) == value
        # Upper case and surrounding whitespace are accepted and normalised.
        assert signal.parse(f"  {text.upper()}\n") == value
        assert signal.format(signal.parse(text.upper())) == text


@pytest.mark.parametrize("name", list(CORE))
def test_examples_parse(name: str) -> None:
    signal = get(name)
    assert signal.examples
    for example in signal.examples:
        assert signal.format(signal.parse(example)) == example


def test_hash_result_hex() -> None:
    result = HashResult("md5", bytes.fromhex("d41d8cd98f00b204e9800998ecf8427e"))
    assert result.hex == "d41d8cd98f00b204e9800998ecf8427e" and result.quality is None


# distance ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", STREAM)
def test_exact_distance(name: str) -> None:
    signal = get(name)
    a = bytes(signal.size)
    b = bytes(signal.size - 1) + b"\x01"
    assert signal.distance(a, a) == 0
    assert signal.distance(a, b) == signal.distance(b, a) == 1


def test_pdq_distance_known_values() -> None:
    pdq = get("pdq")
    h1, h2, old = (pdq.parse(v) for v in (BRIDGE_1, BRIDGE_2_ROT90, BRIDGE_1_CPP_README))
    assert pdq.distance(h1, h2) == pdq.distance(h2, h1) == 120
    assert pdq.distance(h1, old) == 8
    assert pdq.distance(h1, h1) == 0
    zero, ones = bytes(32), b"\xff" * 32
    assert pdq.distance(zero, ones) == 256
    assert pdq.distance(zero, b"\x80" + bytes(31)) == 1
    assert pdq.distance(zero, bytes(31) + b"\x01") == 1
    assert pdq.distance(zero, pdq.parse("0f" * 32)) == 128


def test_pdq_distance_is_a_popcount() -> None:
    pdq = get("pdq")
    rng = np.random.default_rng(7)
    for _ in range(50):
        a, b = rng.bytes(32), rng.bytes(32)
        expected = int(np.unpackbits(np.frombuffer(a, np.uint8) ^ np.frombuffer(b, np.uint8)).sum())
        assert pdq.distance(a, b) == expected


# stream hashers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", STREAM)
def test_stream_hasher_matches_hashlib_on_random_data(name: str) -> None:
    signal = get(name)
    assert isinstance(signal, StreamSignal)
    rng = np.random.default_rng(2024)
    data = rng.bytes(3 * 1024 * 1024 + 17)
    hasher = signal.new_hasher()
    view = memoryview(data)
    pos = 0
    while pos < len(data):
        step = int(rng.integers(1, 256 * 1024))
        hasher.update(view[pos : pos + step])
        pos += step
    digest = hasher.digest()
    assert digest == hashlib.new(name, data).digest()
    assert len(digest) == signal.size


@pytest.mark.parametrize("name", STREAM)
def test_stream_hasher_of_nothing_is_the_example(name: str) -> None:
    signal = get(name)
    assert isinstance(signal, StreamSignal)
    assert signal.format(signal.new_hasher().digest()) == signal.examples[0]


@settings(max_examples=50, deadline=None)
@given(data=st.binary(max_size=4096), cuts=st.lists(st.integers(0, 4096), max_size=8))
def test_stream_hashers_chunking_does_not_matter(data: bytes, cuts: list[int]) -> None:
    bounds = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    for name in STREAM:
        signal = get(name)
        assert isinstance(signal, StreamSignal)
        hasher = signal.new_hasher()
        for start, end in itertools.pairwise(bounds):
            hasher.update(data[start:end])
        assert hasher.digest() == hashlib.new(name, data).digest()


def test_hashers_are_independent() -> None:
    signal = get("sha256")
    assert isinstance(signal, StreamSignal)
    a, b = signal.new_hasher(), signal.new_hasher()
    a.update(b"abc")
    assert b.digest() == hashlib.sha256().digest()
    assert a.digest() == hashlib.sha256(b"abc").digest()


# PDQ wrapper ------------------------------------------------------------------------------------------------


def test_bits_to_bytes_order() -> None:
    bits = np.zeros(256, np.uint8)
    bits[0] = 1  # bit 0 is the top bit of byte 0 (reference hex order)
    bits[15] = 1  # bit 15 is the bottom bit of byte 1
    assert bits_to_bytes(bits).hex() == "8001" + "00" * 30


def _image(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    return np.kron(coarse, np.ones((16, 16, 1), np.uint8))


def test_pdq_compute_image() -> None:
    pdq = get("pdq")
    assert isinstance(pdq, ImageSignal)
    rgb = _image(1)
    result = pdq.compute_image(rgb)
    assert result.signal == "pdq" and len(result.value) == 32
    assert result.quality is not None and 0 <= result.quality <= 100
    assert pdq.compute_image(rgb) == result  # deterministic
    # A non-contiguous view (a flipped image) is hashed like its contiguous copy.
    flipped = rgb[:, ::-1]
    assert pdq.compute_image(flipped) == pdq.compute_image(np.ascontiguousarray(flipped))
    assert pdq.distance(result.value, pdq.compute_image(_image(2)).value) > 64


def test_pdq_variants() -> None:
    pdq = get("pdq")
    assert isinstance(pdq, ImageSignal)
    rgb = _image(3)
    variants, quality = pdq.variants(rgb)
    result = pdq.compute_image(rgb)
    assert len(variants) == 8 and all(len(v) == 32 for v in variants)
    assert variants[0] == result.value and quality == result.quality
    # Variant 4 is the left-right mirror: this image's mirror, hashed directly, is within the match threshold.
    mirrored = pdq.compute_image(np.ascontiguousarray(rgb[:, ::-1])).value
    assert min(pdq.distance(v, mirrored) for v in variants) <= pdq.threshold


@pytest.mark.parametrize(
    "array",
    [
        np.zeros((64, 64), np.uint8),  # greyscale
        np.zeros((64, 64, 4), np.uint8),  # RGBA
        np.zeros((64, 64, 3), np.float32),  # not uint8
        np.zeros((64, 64, 3), np.uint16),
    ],
    ids=["grey", "rgba", "float", "uint16"],
)
def test_pdq_rejects_other_arrays(array: np.ndarray) -> None:
    pdq = get("pdq")
    assert isinstance(pdq, ImageSignal)
    with pytest.raises(ValueError, match="expected an H×W×3 uint8 array"):
        pdq.compute_image(array)
    with pytest.raises(ValueError, match="expected an H×W×3 uint8 array"):
        pdq.variants(array)
