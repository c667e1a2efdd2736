"""Helpers for the review tests: users, benign generated evidence (tests.imagegen), real scans."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.imagegen import render_image
from vigil.config import Settings
from vigil.scan.runner import ScanOptions, run_scan
from vigil.store import Store
from vigil.store.models import User
from vigil.store.users import DEFAULT_SETTINGS


def add_user(store: Store, name: str, role: str = "reviewer", **settings: Any) -> User:
    """A user row (no password hashing: these tests never log in)."""
    with store.transaction() as session:
        user = User(
            name=name,
            role=role,
            password_hash="not-a-login",
            settings={**DEFAULT_SETTINGS, **settings},
        )
        session.add(user)
        session.flush()
    return user


def picture(seed: int, kind: str = "shapes") -> Image.Image:
    return render_image(kind, seed, (320, 240))


def near_duplicates(folder: Path, seed: int, prefix: str = "series") -> list[Path]:
    """Three files of one benign picture: PNG, re-encoded JPEG, a smaller PNG (PDQ-near, files differ)."""
    folder.mkdir(parents=True, exist_ok=True)
    img = picture(seed)
    paths = [folder / f"{prefix}-a.png", folder / f"{prefix}-b.jpg", folder / f"{prefix}-c.png"]
    img.save(paths[0])
    img.save(paths[1], quality=80)
    img.resize((300, 225)).save(paths[2])
    return paths


def distinct(folder: Path, seeds: Sequence[int], kind: str = "noise") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in seeds:
        path = folder / f"{kind}-{seed}.png"
        picture(seed, kind).save(path)
        paths.append(path)
    return paths


def scan(store: Store, evidence: Path, out: Path, case: str | None = None) -> dict[str, Any]:
    """A real `vigil scan` of `evidence` into `out` (one worker, no thumbnails)."""
    options = ScanOptions(evidence=[str(evidence)], out=out, workers=1, progress=False, case=case)
    return run_scan(store, options)


@pytest.fixture
def settings() -> Settings:
    return Settings(review_votes=3, review_group_distance=31)
