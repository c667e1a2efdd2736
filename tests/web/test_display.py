"""What the pages show of names they do not control: file names with bidi and zero-width characters."""

from __future__ import annotations

import json
import re

from tests.imagegen import make_image
from tests.web.harness import Browser, Served, Site, scan
from vigil.review import attach_folder

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "photo<RLO>gpj.exe" reads as "photoexe.jpg"


def test_bidi_and_zero_width_characters_in_file_names_are_shown_escaped(site: Site, server: Served) -> None:
    evidence = site.evidence_root / f"case{RLO}2"
    make_image(evidence / "photo.png", "shapes", seed=31).rename(evidence / f"photo{RLO}gpj.exe")
    make_image(evidence / "zero\u200bwidth.png", "noise", seed=32)
    out = site.root / "scans" / "bidi"
    scan_id = scan(site.db, evidence, out)
    with site.store() as store:
        attach_folder(store, out)
    anna = Browser(server.base).login("anna")
    page = anna.get(f"/scans/{scan_id}")
    assert page.status_code == 200
    cells = re.findall(r'<td class="path">([^<]*)</td>', page.text)
    assert sorted(cells) == [
        f"{evidence}/photo{RLO}gpj.exe".replace(RLO, "&lt;U+202E&gt;"),
        f"{evidence}/zero\u200bwidth.png".replace(RLO, "&lt;U+202E&gt;").replace("\u200b", "&lt;U+200B&gt;"),
    ]
    assert "Evidence: " + str(evidence).replace(RLO, "&lt;U+202E&gt;") in page.text
    listing = anna.get("/scans")
    assert str(evidence).replace(RLO, "&lt;U+202E&gt;") in listing.text and RLO not in listing.text
    # The data keeps the real names.
    paths = {json.loads(line)["path"] for line in (out / "items.jsonl").read_text().splitlines()}
    assert f"{evidence}/photo{RLO}gpj.exe" in paths
