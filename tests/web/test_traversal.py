"""The server never sends a file from outside the attached scan's evidence roots: crafted scan journals
(``..``, absolute paths, symbolic links out, relative paths, a scan claiming ``/`` as its evidence),
hostile URLs (dot segments, encoded slashes) and folder fields in forms all end in 403/404, never in the
file. A benign generated picture outside the roots stands in for "a file the server must not show"."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.imagegen import make_image
from tests.web.harness import VIGIL, Browser, Served, Site, serve, sightings
from vigil.review import attach_folder

JPEG = b"\xff\xd8\xff"


def record(path: str, n: int) -> dict[str, object]:
    """A scan journal line for `path` with hashes of its own (no two lines are the same item)."""
    return {
        "path": path,
        "size": 1000,
        "md5": f"{n:032x}",
        "sha1": f"{n:040x}",
        "sha256": f"{n + 7:064x}",
        "media_type": "image/png",
        "deleted": False,
        "status": "ok",
        "error": None,
        "verdict": "unknown",
        "matches": [],
    }


def crafted_scan(folder: Path, evidence: list[str], paths: list[str], start: int) -> Path:
    folder.mkdir(parents=True)
    lines = [json.dumps(record(p, start + i)) for i, p in enumerate(paths)]
    (folder / "items.jsonl").write_text("\n".join(lines) + "\n")
    summary = {
        "vigil_version": "0.1.0",
        "started_at": f"2025-01-0{start % 9 + 1}T10:00:00+00:00",
        "finished_at": f"2025-01-0{start % 9 + 1}T10:05:00+00:00",
        "evidence": [{"path": e, "type": "folder"} for e in evidence],
        "verdicts": {"unknown": len(paths)},
    }
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


@pytest.fixture
def hostile(site: Site) -> dict[str, object]:
    """Two crafted scans attached to the store: one over the site's evidence folder naming files outside
    it in every way, one claiming the whole file system as its evidence."""
    outside = site.root / "outside"
    secret = make_image(outside / "secret.png", "text", seed=666)
    other_case = make_image(site.evidence_root / "case-2" / "x.png", "noise", seed=667)
    os.symlink(secret, site.evidence / "link.png")
    os.symlink(outside, site.evidence / "linkdir")
    legit = str(site.files["other0"])
    paths = {
        "legit": legit,
        "dotdot": f"{site.evidence}/../../outside/secret.png",
        "absolute": str(secret),
        "symlink": str(site.evidence / "link.png"),
        "symlinked_dir": str(site.evidence / "linkdir" / "secret.png"),
        "relative": "case-1/misc/other-0.png",
        "other_case": str(other_case),
        "encoded": f"{site.evidence}/%2e%2e/%2e%2e/outside/secret.png",
        "member_escape": f"{legit}!/../../outside/secret.png",
        "nul": f"{site.evidence}/\x00/etc/passwd",
        "markup": f"{site.evidence}/<script>alert(1)</script>.png",
    }
    first = crafted_scan(site.root / "scans" / "crafted", [str(site.evidence)], list(paths.values()), 100)
    everything = crafted_scan(site.root / "scans" / "root", ["/"], [str(secret)], 200)
    with site.store() as store:
        a = attach_folder(store, first)
        b = attach_folder(store, everything)
    assert a.scan_id and b.scan_id
    by_path = {s.path: s for s in sightings(site, a.scan_id)}
    ids = {name: by_path[p] for name, p in paths.items()}
    ids["whole_fs"] = sightings(site, b.scan_id)[0]
    return {"ids": ids, "secret": secret, "outside": outside, "scan_id": a.scan_id}


def test_thumbnails_only_from_inside_the_scans_evidence(site: Site, hostile: dict, server: Served) -> None:
    rita = Browser(server.base).login("rita")
    ids = hostile["ids"]
    legit = rita.get(f"/review/item/{ids['legit'].item_id}/sighting/{ids['legit'].scan_item_id}/thumb")
    assert legit.status_code == 200 and legit.content.startswith(JPEG)
    assert legit.headers["cache-control"] == "no-store, private"
    for name, s in ids.items():
        if name == "legit":
            continue
        r = rita.get(f"/review/item/{s.item_id}/sighting/{s.scan_item_id}/thumb")
        assert r.status_code in (403, 404), (name, r.status_code)
        assert not r.content.startswith(JPEG), name
        expected = 404 if name == "member_escape" else 403  # a PNG holds no members: nothing to show
        assert r.status_code == expected, name
    # A sighting of another item: 404 (ids cannot be mixed to reach a file).
    r = rita.get(f"/review/item/{ids['legit'].item_id}/sighting/{ids['absolute'].scan_item_id}/thumb")
    assert r.status_code == 404
    # The cache is private and holds only the one thumbnail made.
    cached = [p for p in (site.data_dir / "thumbs").rglob("*") if p.is_file()]
    assert len(cached) == 1 and cached[0].stat().st_mode & 0o777 == 0o600
    assert (site.data_dir / "thumbs").stat().st_mode & 0o777 == 0o700


def raw_get(base: str, target: str, cookie: str) -> tuple[int, bytes]:
    """GET exactly `target` (no client-side normalisation of dot segments or escapes)."""
    url = urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        request = (
            f"GET {target} HTTP/1.1\r\nHost: {url.netloc}\r\nCookie: vigil_session={cookie}\r\n"
            "Connection: close\r\n\r\n"
        )
        sock.sendall(request.encode("latin-1"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 400
    return status, data.partition(b"\r\n\r\n")[2]


def test_hostile_urls_get_nothing(site: Site, hostile: dict, server: Served) -> None:
    rita = Browser(server.base).login("rita")
    legit = hostile["ids"]["legit"]
    assert rita.get(f"/review/item/{legit.item_id}/sighting/{legit.scan_item_id}/thumb").status_code == 200
    cached = next(p for p in (site.data_dir / "thumbs").rglob("*.jpg"))
    secret: Path = hostile["secret"]
    cookie = rita.session_cookie or ""
    up = "../" * 12
    targets = [
        f"/static/{up}etc/passwd",
        "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/static/%2fetc%2fpasswd",
        "/static//etc/passwd",
        f"/static/{up}{str(secret).lstrip('/')}",
        f"/static/{up}{str(cached).lstrip('/')}",
        "/static/" + "..%2f" * 12 + str(secret).lstrip("/").replace("/", "%2f"),
        f"/review/item/{legit.item_id}/sighting/..%2f..%2f..%2fetc%2fpasswd/thumb",
        f"/review/item/{legit.item_id}/sighting/{legit.scan_item_id}/thumb/{up}etc/passwd",
        f"/review/item/{legit.item_id}/sighting/{legit.scan_item_id}%2f..%2f..%2f/thumb",
        f"/{up}etc/passwd",
        "/thumbs/" + cached.name,
        f"/data/thumbs/{cached.parent.name}/{cached.name}",
        str(secret),
        "/static/%00",
    ]
    secret_bytes = secret.read_bytes()
    for target in targets:
        status, body = raw_get(server.base, target, cookie)
        assert status in (400, 403, 404), (target, status)
        assert b"root:" not in body and not body.startswith(JPEG), target
        assert secret_bytes[:64] not in body and cached.read_bytes()[:64] not in body, target


def test_forms_refuse_folders_outside_the_roots(site: Site, hostile: dict, server: Served) -> None:
    anna = Browser(server.base).login("anna")
    outside: Path = hostile["outside"]
    escape_scans = site.root / "scans" / "escape"
    os.symlink(site.root / "elsewhere", escape_scans)
    (site.root / "elsewhere").mkdir()
    os.symlink(outside, site.evidence_root / "escape")
    for folder in (
        "/etc",
        "../../etc",
        str(site.root / "scans" / ".." / "outside"),
        str(escape_scans),
        "scans/first",
    ):
        r = anna.form("/scans/attach", {"folder": folder})
        assert r.status_code == 403, folder
    for evidence in (
        "/etc",
        str(outside),
        f"{site.evidence_root}/../outside",
        str(site.evidence_root / "escape"),
        "case-1",
        f"{site.evidence}\n/etc",
    ):
        r = anna.form("/scans", {"evidence": evidence})
        assert r.status_code == 403, evidence
    jobs = site.data_dir / "scans"
    assert not jobs.exists() or not list(jobs.glob("*.json"))


def test_no_thumbnails_without_configured_evidence_roots(site: Site) -> None:
    legit = sightings(site)[0]
    with serve(site, VIGIL_EVIDENCE_ROOTS="") as served:
        rita = Browser(served.base).login("rita")
        assert (
            rita.get(f"/review/item/{legit.item_id}/sighting/{legit.scan_item_id}/thumb").status_code == 403
        )


def test_paths_are_shown_escaped(site: Site, hostile: dict, server: Served) -> None:
    page = Browser(server.base).login("anna").get(f"/scans/{hostile['scan_id']}")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.png" in page.text and "<script>alert" not in page.text


def test_a_scan_run_with_relative_paths_shows_its_thumbnails(site: Site, server: Served) -> None:
    """`vigil scan case --out ...` run inside the evidence folder records relative paths; the scan's
    summary says where it ran, so the app can still find (and bound) the files."""
    make_image(site.evidence_root / "rel-case" / "r.png", "shapes", seed=71)
    out = site.root / "scans" / "relative"
    subprocess.run(
        [VIGIL, "-q", "scan", "rel-case", "--out", str(out)],
        cwd=site.evidence_root,
        env=dict(os.environ, VIGIL_DB=site.db),
        check=True,
    )
    with site.store() as store:
        attached = attach_folder(store, out)
    [seen] = sightings(site, attached.scan_id)
    assert seen.path == "rel-case/r.png"
    rita = Browser(server.base).login("rita")
    r = rita.get(f"/review/item/{seen.item_id}/sighting/{seen.scan_item_id}/thumb")
    assert r.status_code == 200 and r.content.startswith(JPEG)
