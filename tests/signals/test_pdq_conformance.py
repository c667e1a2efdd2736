"""PDQ conformance: vigil's production hashing path against the published reference values.

Every image is hashed exactly as a scan does it: ``decode_rgb(bytes, DecodeLimits())`` (Pillow; JPEGs in
draft mode, i.e. libjpeg DCT scaling to no less than 512 px on the short side) and then
``signals.get("pdq").compute_image``. Reference values come from ``tests/data/pdq/expected.csv`` (see its
README for provenance); set ``VIGIL_PDQ_CONFORMANCE_DIR`` to run on the complete conformance set instead.

Distances measured on the committed images (pdqhash 0.2.8, Pillow 13.0.0, vigil's draft decode):

- C++ reference, quality >= 80: `pdq/cpp/bin` + `pdq/sql` README hex values max 8 (bridge-1, -2, -6, -7),
  `--int64` values max 2 (wee.jpg, q0122, q0746; all others 0), WASM values max 10 (c.png; sharpen-a-lot 8).
  The upstream rule allows 10. On the full set the exif-rotn photos (4032x3024, the only images draft mode
  actually shrinks, to 1008x756) measure 2-6 against `--int64` and 2-4 against the hex values, where a full
  decode gives 0 and 0-4: draft decode costs up to 6 bits there and stays inside the rule.
- python-threatexchange (same `pdqhash` binding): all `none` rows exact, hash and quality.
- Java README 8, PHP 8, pure-Python README 12 (sharpen-a-lot), pure-Python unit test 12 (bridge-3, -8).
- Quality equals the reference quality on every row that gives one.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from vigil.media import DecodeLimits, decode_rgb
from vigil.signals import HashResult, get
from vigil.signals.pdq import PDQSignal

DATA = Path(os.environ.get("VIGIL_PDQ_CONFORMANCE_DIR") or Path(__file__).parents[1] / "data" / "pdq")
# Byte-identical upstream copies (one git blob) that are stored once here.
ALIASES = {"bridge-mods/aaa-orig.jpg": "reg-test-input/dih/bridge-1-original.jpg"}

CPP_MAX_DISTANCE = 10  # upstream rule: within 10 bits of the C++ reference ...
CPP_MIN_QUALITY = 80  # ... for hashes of quality >= 80
OTHER_MAX_DISTANCE = 16  # loosest upstream test tolerance (pdq/python/pdqhashing/tests/pdq_test.py)
MATCH_DISTANCE = 31  # PDQ's recommended match threshold, vigil's default


@dataclass(frozen=True)
class Row:
    file: str
    pdq_hex: str
    quality: int | None
    source: str
    implementation: str
    transform: str

    @property
    def path(self) -> Path:
        direct = DATA / self.file
        return direct if direct.exists() else DATA / ALIASES.get(self.file, self.file)

    @property
    def value(self) -> bytes:
        return bytes.fromhex(self.pdq_hex)

    @property
    def is_cpp(self) -> bool:
        return "C++" in self.implementation  # the C++ tool itself and its WASM build

    @property
    def is_pytx(self) -> bool:
        return self.source.startswith("python-threatexchange/")

    @property
    def label(self) -> str:
        impl = self.implementation
        tag = (
            "wasm"
            if "WASM" in impl
            else "cpp-int64"
            if "--int64" in impl
            else "cpp"
            if "C++" in impl
            else "php-ext"
            if "extnphp" in impl
            else "php"
            if "PHP" in impl
            else "java"
            if "Java" in impl
            else "pure-py"
            if "pure-Python" in impl
            else "pytx"
        )
        transform = "" if self.transform == "none" else f"[{self.transform.split()[0]}]"
        return f"{tag}:{self.source}:{self.file}{transform}"


def _load_rows() -> list[Row]:
    with (DATA / "expected.csv").open(newline="") as f:
        rows = [
            Row(
                r["file"],
                r["pdq_hex"],
                int(r["quality"]) if r["quality"] else None,
                r["source"],
                r["implementation"],
                r["transform"],
            )
            for r in csv.DictReader(f)
        ]
    # Only rows whose image is present (the committed subset drops some files; see the data README).
    return [r for r in rows if r.path.exists()]


ROWS = _load_rows()
PDQ = get("pdq")


def _by(predicate: Callable[[Row], bool]) -> list[Any]:
    return [pytest.param(r, id=r.label) for r in ROWS if predicate(r)]


@cache
def reference_quality(file: str) -> int | None:
    """The quality the sources give for an image (C++ --int64, Java, pure-Python and py-TX rows agree)."""
    qualities = {
        r.quality for r in ROWS if r.path == DATA / ALIASES.get(file, file) and r.quality is not None
    }
    assert len(qualities) <= 1, f"sources disagree on the quality of {file}: {sorted(qualities)}"
    return qualities.pop() if qualities else None


def decode(path: Path) -> np.ndarray:
    return decode_rgb(path.read_bytes(), DecodeLimits())


@cache
def vigil_hash(path: Path) -> HashResult:
    """PDQ as vigil computes it during a scan."""
    return PDQ.compute_image(decode(path))


def test_rows_loaded() -> None:
    assert isinstance(PDQ, PDQSignal)
    assert len(ROWS) >= 100, f"expected.csv in {DATA} gave only {len(ROWS)} usable rows"
    assert {r.is_cpp for r in ROWS} == {True, False}


# (a) the upstream conformance rule --------------------------------------------------------------------------


@pytest.mark.parametrize("row", _by(lambda r: r.is_cpp and r.transform == "none"))
def test_within_10_bits_of_cpp_reference(row: Row) -> None:
    ours = vigil_hash(row.path)
    # Gate on the reference quality of the image (the row's own, else what the other sources give for the
    # same file; every row has one), falling back to vigil's quality.
    quality = row.quality if row.quality is not None else reference_quality(row.file)
    if quality is None:
        quality = ours.quality
    distance = PDQ.distance(ours.value, row.value)
    if quality is not None and quality < CPP_MIN_QUALITY:
        # The rule does not cover low-quality hashes (q0003: 3, q0004: 4, small.jpg: 0). Measured: 12, 2, 0.
        assert distance <= OTHER_MAX_DISTANCE, f"{row.file} (quality {quality}): distance {distance}"
        return
    assert distance <= CPP_MAX_DISTANCE, (
        f"{row.file}: vigil {ours.hex} (q {ours.quality}) is {distance} bits from the C++ reference "
        f"{row.pdq_hex} ({row.source}); the upstream rule allows {CPP_MAX_DISTANCE}"
    )


# (b) python-threatexchange uses the same pdqhash binding: exact ---------------------------------------------


@pytest.mark.parametrize("row", _by(lambda r: r.is_pytx and r.transform == "none"))
def test_python_threatexchange_exact(row: Row) -> None:
    # Exact even though vigil decodes JPEGs in draft mode: libjpeg only scales by 1/2, 1/4 or 1/8 while the
    # result stays >= 512 px on each side, which none of these images allows (1600x1004 would drop to 502).
    ours = vigil_hash(row.path)
    assert ours.hex == row.pdq_hex, f"{row.file}: distance {PDQ.distance(ours.value, row.value)}"
    if row.quality is not None:
        assert ours.quality == row.quality


# python-threatexchange's PhotoContent.all_simple_rotations (Pillow transposes, re-saved in the same format).
TRANSPOSES: dict[str, list[Image.Transpose]] = {
    "ORIGINAL": [],
    "ROTATE90": [Image.Transpose.ROTATE_90],
    "ROTATE180": [Image.Transpose.ROTATE_180],
    "ROTATE270": [Image.Transpose.ROTATE_270],
    "FLIPX": [Image.Transpose.FLIP_TOP_BOTTOM],
    "FLIPY": [Image.Transpose.FLIP_LEFT_RIGHT],
    "FLIPPLUS1": [Image.Transpose.ROTATE_270, Image.Transpose.FLIP_LEFT_RIGHT],
    "FLIPMINUS1": [Image.Transpose.ROTATE_90, Image.Transpose.FLIP_LEFT_RIGHT],
}


@pytest.mark.parametrize("row", _by(lambda r: r.is_pytx and r.transform.split()[0] in TRANSPOSES))
def test_python_threatexchange_rotations_exact(row: Row) -> None:
    with Image.open(row.path) as img:
        out = img
        for op in TRANSPOSES[row.transform.split()[0]]:
            out = out.transpose(op)
        buf = io.BytesIO()
        out.save(buf, format=img.format)
    ours = PDQ.compute_image(decode_rgb(buf.getvalue(), DecodeLimits()))
    assert ours.hex == row.pdq_hex, f"distance {PDQ.distance(ours.value, row.value)}"


# (c) quality ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("row", _by(lambda r: r.quality is not None and r.transform == "none"))
def test_quality_equals_reference(row: Row) -> None:
    assert vigil_hash(row.path).quality == row.quality


# other implementations (Java, PHP, pure Python): looser, as upstream's own tests ----------------------------


@pytest.mark.parametrize("row", _by(lambda r: not r.is_cpp and not r.is_pytx and r.transform == "none"))
def test_other_references_within_16_bits(row: Row) -> None:
    distance = PDQ.distance(vigil_hash(row.path).value, row.value)
    assert distance <= OTHER_MAX_DISTANCE, f"{row.file}: {distance} bits from {row.source}"


# (d) dihedral variants --------------------------------------------------------------------------------------

DIH = DATA / "reg-test-input" / "dih"
# Order of pdqhash.compute_dihedral, which PDQSignal.variants returns: the upstream file numbering.
DIH_FILES = [
    "bridge-1-original.jpg",
    "bridge-2-rotate-90.jpg",
    "bridge-3-rotate-180.jpg",
    "bridge-4-rotate-270.jpg",
    "bridge-5-flipx.jpg",
    "bridge-6-flipy.jpg",
    "bridge-7-flip-plus-1.jpg",
    "bridge-8-flip-minus-1.jpg",
]


@cache
def bridge_variants() -> tuple[list[bytes], int]:
    return PDQ.variants(decode(DIH / DIH_FILES[0]))


def test_variants_start_with_the_hash() -> None:
    variants, quality = bridge_variants()
    ours = vigil_hash(DIH / DIH_FILES[0])
    assert len(variants) == 8 and len(set(variants)) == 8
    assert variants[0] == ours.value and quality == ours.quality == 100


@pytest.mark.parametrize("index", range(8), ids=DIH_FILES)
def test_rotated_file_matches_a_variant_of_the_original(index: int) -> None:
    variants, _ = bridge_variants()
    rotated = vigil_hash(DIH / DIH_FILES[index]).value
    distances = [PDQ.distance(v, rotated) for v in variants]
    best = min(distances)
    # Measured: 0, 2, 8, 8, 8, 2, 0, 8 — each at the variant of the same index; all others >= 102.
    assert best <= MATCH_DISTANCE, f"{DIH_FILES[index]}: distances to the 8 variants {distances}"
    assert distances.index(best) == index, f"{DIH_FILES[index]} is nearest to variant {distances.index(best)}"
    assert sorted(distances)[1] > 2 * MATCH_DISTANCE, f"a second variant also matches: {distances}"


# relations asserted by upstream's Java unit test (PDQHasherTest.java) ---------------------------------------


def test_java_unit_test_relations() -> None:
    original = vigil_hash(DIH / DIH_FILES[0])
    rotated = vigil_hash(DIH / DIH_FILES[1])
    pen = vigil_hash(DATA / "reg-test-input" / "pen-and-coaster.png")
    assert PDQ.distance(original.value, rotated.value) == 120
    assert PDQ.distance(original.value, pen.value) == 138
    rgb = decode(DIH / DIH_FILES[0])
    grey = np.asarray(Image.fromarray(rgb).convert("L").convert("RGB"))
    assert PDQ.distance(original.value, PDQ.compute_image(grey).value) == 0
    half = Image.fromarray(rgb).resize((rgb.shape[1] // 2, rgb.shape[0] // 2))
    # Java expects 4 with its own scaler; Pillow's bicubic half-size measures 2.
    assert PDQ.distance(original.value, PDQ.compute_image(np.asarray(half)).value) <= 4
