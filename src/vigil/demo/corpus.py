"""The demo's source pictures, written once and hashed with vigil's own hashing.

Candidates are tried in a fixed order (scikit-image samples first, then generated pictures by seed); one is
kept only if its PDQ quality is high and its hash differs from every picture already kept by more than
`MIN_SEPARATION` bits under all eight rotations/flips. So the demo's pictures are guaranteed unrelated to
each other, and any match the scan reports between them would be a real false match.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from vigil.core.errors import VigilError
from vigil.hashing import FileHashes, hash_file
from vigil.media import DecodeLimits
from vigil.signals import get as get_signal

from .images import KINDS, SKIMAGE_SAMPLES, random_size, render, rng_for, skimage_sample

MIN_QUALITY = 80
MIN_SEPARATION = 81  # bits; "more than 80 bits apart"
JPEG_QUALITY = 90


@dataclass(slots=True)
class Picture:
    name: str
    origin: str  # "generated" or "scikit-image"
    kind: str  # the generator, or the sample's name
    path: Path
    hashes: FileHashes

    @property
    def pdq(self) -> bytes:
        return self.hashes.image["pdq"].value

    @property
    def quality(self) -> int:
        return int(self.hashes.image["pdq"].quality or 0)

    @property
    def size(self) -> tuple[int, int]:
        with Image.open(self.path) as img:
            return img.size


@dataclass(slots=True)
class Corpus:
    pictures: list[Picture] = field(default_factory=list)  # the demo's ~40 source pictures
    extras: list[Picture] = field(default_factory=list)  # more unrelated pictures, for other roles
    dropped: list[dict[str, str]] = field(default_factory=list)  # candidates refused, with the reason


def save(img: Image.Image, path: Path, *, quality: int = JPEG_QUALITY) -> Path:
    """Write `img` as JPEG or PNG according to the suffix of `path`."""
    if path.suffix == ".jpg":
        img.save(path, "JPEG", quality=quality)
    else:
        img.save(path, "PNG", compress_level=3)
    return path


def build_corpus(
    folder: Path, limits: DecodeLimits, *, samples: int, generated: int, extras: int, seed: int
) -> Corpus:
    """Write and hash up to `samples` scikit-image samples, `generated` generated pictures and `extras`
    further generated pictures into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    corpus = Corpus()
    kept: list[bytes] = []
    pdq = get_signal("pdq")

    def consider(name: str, origin: str, kind: str, img: Image.Image, index: int) -> Picture | None:
        path = save(img, folder / f"{name}.{'jpg' if index % 2 == 0 else 'png'}")
        hashes = hash_file(str(path), limits)
        reason = None
        if hashes.error or "pdq" not in hashes.image:
            reason = f"cannot hash: {hashes.error}"
        elif (hashes.image["pdq"].quality or 0) < MIN_QUALITY:
            reason = f"PDQ quality {hashes.image['pdq'].quality} < {MIN_QUALITY}"
        else:
            nearest = min((pdq.distance(v, k) for v in hashes.variants["pdq"] for k in kept), default=256)
            if nearest < MIN_SEPARATION:
                reason = f"only {nearest} PDQ bits from a picture already chosen"
        if reason is not None:
            path.unlink()
            corpus.dropped.append({"name": name, "reason": reason})
            return None
        kept.append(hashes.image["pdq"].value)
        return Picture(name, origin, kind, path, hashes)

    index = 0
    for sample in list(SKIMAGE_SAMPLES)[:samples]:
        img = skimage_sample(sample)
        if img is None:
            reason = "not shipped with this scikit-image"
            corpus.dropped.append({"name": f"sample-{sample}", "reason": reason})
            continue
        if (picture := consider(f"sample-{sample}", "scikit-image", sample, img, index)) is not None:
            corpus.pictures.append(picture)
            index += 1

    wanted = generated + extras
    made: list[Picture] = []
    for attempt in itertools.count():
        if len(made) >= wanted:
            break
        if attempt >= 3 * wanted + 20:
            raise VigilError(f"could only make {len(made)} of {wanted} distinct demo pictures")
        kind = KINDS[attempt % len(KINDS)]
        rng = rng_for(kind, seed * 10_000 + attempt)
        img = render(kind, rng, random_size(rng))
        name = f"gen-{attempt + 1:02d}-{kind}"
        if (picture := consider(name, "generated", kind, img, index)) is not None:
            made.append(picture)
            index += 1
    corpus.pictures += made[:generated]
    corpus.extras = made[generated:]
    return corpus
