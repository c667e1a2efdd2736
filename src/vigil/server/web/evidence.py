"""Where the web app may read evidence from: the folders in VIGIL_EVIDENCE_ROOTS, and inside them only what
an attached scan was pointed at.

Every check works on real paths (symbolic links and ``..`` resolved), so a link inside an evidence folder
that points elsewhere, or a crafted ``items.jsonl`` naming ``/etc/passwd`` or ``../../x``, is outside.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    """The web app's own settings (VIGIL_ environment variables), beside vigil.config.Settings."""

    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="ignore")

    evidence_roots: str = Field(
        default="",
        description="colon-separated folders the web app may scan and show thumbnails from (none: neither)",
    )
    scan_roots: str = Field(
        default="",
        description="colon-separated folders holding finished `vigil scan --out` folders that may be "
        "attached from the web (besides the evidence roots and the data folder's scans/)",
    )
    scan_workers: int = Field(default=0, ge=0, description="hashing processes for scans started from the web")
    login_attempts_per_minute: int = Field(
        default=20, ge=0, description="login attempts one client address may make a minute (0 = no limit)"
    )
    thumb_cache_mb: int = Field(
        default=1024, ge=1, description="the thumbnail cache's size; the least recently shown go first"
    )


def parse_roots(text: str) -> list[Path]:
    """The existing folders in a colon-separated list, as real absolute paths (others are dropped)."""
    roots = []
    for part in text.split(":"):
        part = part.strip()
        if not part:
            continue
        real = Path(os.path.realpath(os.path.expanduser(part)))
        if real.is_dir() and real not in roots:
            roots.append(real)
    return roots


def inside(path: str | Path, roots: list[Path]) -> Path | None:
    """The real path of `path` if it is one of `roots` or below one, else None. Relative paths are refused
    (they would depend on the server's working directory)."""
    text = os.fspath(path)
    if not text or "\x00" in text or not os.path.isabs(text):
        return None
    real = Path(os.path.realpath(text))
    for root in roots:
        if real == root or root in real.parents:
            return real
    return None


def evidence_file(
    vigil_path: str, scan_roots: list[str], allowed: list[Path], cwd: str | None = None
) -> str | None:
    """The vigil path (``outer!/member!/...``) to read for a scan item, its outer file resolved, or None
    when the outer file is not a regular file inside both one of the scan's evidence roots and one of the
    configured evidence roots. `cwd`: the folder the scan ran in (its summary says), against which relative
    evidence paths are taken; without it they are refused."""
    if cwd and os.path.isabs(cwd):
        vigil_path = os.path.join(cwd, vigil_path)
        scan_roots = [os.path.join(cwd, r) for r in scan_roots]
    outer, sep, inner = vigil_path.partition("!/")
    bounds = [r for r in (inside(s, allowed) for s in scan_roots) if r is not None]
    real = inside(outer, bounds)
    if real is None or not real.is_file():
        return None
    return f"{real}{sep}{inner}"
