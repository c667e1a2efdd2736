"""Where the web app may read evidence from: the folders in VIGIL_EVIDENCE_ROOTS, and inside them only what
an attached scan was pointed at.

Every check works on real paths (symbolic links and ``..`` resolved), so a link inside an evidence folder
that points elsewhere, or a crafted ``items.jsonl`` naming ``/etc/passwd`` or ``../../x``, is outside.
"""

from __future__ import annotations

import os
from pathlib import Path


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
