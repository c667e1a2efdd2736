"""The review web app's test harness: benign evidence, a scanned and attached store with users, a real
`vigil serve` process on 127.0.0.1, and an httpx "browser" that logs in and sends CSRF tokens.

    site = build_site(db, tmp_path)                 # users, evidence, one scan attached for review
    with serve(site) as base:                       # vigil serve on a free port, stopped with SIGTERM
        rita = Browser(base).login("rita")          # a reviewer; rita.csrf is the session's token
        rita.get("/review/scan/1")
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from tests.imagegen import make_image, render_image
from tests.server.serving import free_port, run
from vigil.store import Store
from vigil.store.models import User
from vigil.store.users import DEFAULT_SETTINGS, hash_password

VIGIL = str(Path(sys.executable).parent / "vigil")
PASSWORD = "correct-horse-battery-1"
USERS = {"ada": "admin", "rita": "reviewer", "rob": "reviewer", "anna": "analyst"}
ROLE_USER = {"admin": "ada", "reviewer": "rita", "analyst": "anna"}


def make_evidence(folder: Path, *, video: bool = False) -> dict[str, Path]:
    """Benign generated pictures: one base image with three near-duplicates (re-encoded, resized,
    slightly brightened), four unrelated images, optionally a short generated video."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    base = render_image("shapes", 101, (320, 240))
    files["base"] = folder / "series" / "base.png"
    files["base"].parent.mkdir(parents=True, exist_ok=True)
    base.save(files["base"])
    files["dup_jpeg"] = folder / "series" / "base-copy.jpg"
    base.save(files["dup_jpeg"], quality=70)
    files["dup_small"] = folder / "series" / "base-small.png"
    base.resize((200, 150)).save(files["dup_small"])
    files["dup_bright"] = folder / "series" / "base-bright.png"
    base.point(lambda v: min(255, v + 12)).save(files["dup_bright"])
    for i, kind in enumerate(("gradient", "noise", "text", "shapes")):
        files[f"other{i}"] = make_image(
            folder / "misc" / f"other-{i}.png", kind, seed=200 + i, size=(256, 192)
        )
    if video:
        from tests.videogen import make_video

        files["video"] = make_video(folder / "clips" / "clip.mp4", seed=7, seconds=4)
    return files


def scan(db: str, evidence: Path, out: Path, *, workers: int = 1) -> int:
    """Run `vigil scan` (in-process CLI) and return the scan id."""
    code, stdout, stderr = run(
        db, "--json", "scan", str(evidence), "--out", str(out), "--workers", str(workers)
    )
    assert code == 0, stderr
    return int(json.loads(stdout)["scan_id"])


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def add_users(session: Any) -> None:
    """The four test accounts (argon2 hashed once per test process: each hash costs a quarter second)."""
    for name, role in USERS.items():
        session.add(
            User(name=name, role=role, password_hash=_password_hash(), settings=dict(DEFAULT_SETTINGS))
        )
    session.flush()


@dataclass
class Site:
    db: str
    root: Path  # the test's folder
    evidence_root: Path  # VIGIL_EVIDENCE_ROOTS
    evidence: Path  # the scanned folder inside it
    files: dict[str, Path]
    out: Path  # the scan's --out
    scan_id: int
    env: dict[str, str] = field(default_factory=dict)

    def store(self) -> Store:
        return Store(self.db)

    @property
    def data_dir(self) -> Path:
        """The server's private data folder (VIGIL_DATA_DIR as `serve` sets it)."""
        return Path(self.env.get("VIGIL_DATA_DIR") or os.environ.get("VIGIL_DATA_DIR") or self.root / "data")


def import_near_copy(db: str, picture: Path, work: Path, category: str = "X") -> None:
    """Make the store know a slightly changed copy of `picture` (PDQ only): scans then call the
    picture `similar`."""
    copy = work / f"near-{picture.stem}.png"
    copy.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(picture) as img:
        img.convert("RGB").point(lambda v: min(255, v + 10)).save(copy)
    code, out, err = run(db, "hash", str(copy))
    assert code == 0, err
    hashed = json.loads(out.splitlines()[0])
    csv = work / f"near-{picture.stem}.csv"
    csv.write_text(f"pdq,pdq_quality,category\n{hashed['pdq']},{hashed['pdq_quality']},{category}\n")
    assert run(db, "import", str(csv), "--format", "csv", "--source", "partner")[0] == 0


def build_site(
    db: str,
    root: Path,
    *,
    video: bool = False,
    attach: bool = True,
    similar: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> Site:
    """A store with the four users, an evidence folder, one finished scan of it, attached for review.
    `similar`: names of evidence files the store knows a near copy of (their verdict is `similar`)."""
    evidence_root = root / "evidence"
    evidence = evidence_root / "case-1"
    files = make_evidence(evidence, video=video)
    with Store(db) as store, store.transaction() as session:
        add_users(session)
    for name in similar:
        import_near_copy(db, files[name], root / "known")
    out = root / "scans" / "first"
    scan_id = scan(db, evidence, out)
    site = Site(db, root, evidence_root, evidence, files, out, scan_id, dict(env or {}))
    if attach:
        from vigil.review import attach_folder

        with Store(db) as store:
            attach_folder(store, out)
    return site


@dataclass
class Served:
    base: str
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=10)


@contextmanager
def serve(site: Site, *args: str, **extra_env: str) -> Iterator[Served]:
    """`vigil serve` on a free port for this site (`args`: more options); SIGTERM at the end (it must stop
    cleanly)."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        VIGIL_DB=site.db,
        VIGIL_COOKIE_SECURE="false",
        VIGIL_EVIDENCE_ROOTS=str(site.evidence_root),
        VIGIL_SCAN_ROOTS=str(site.root / "scans"),
        VIGIL_DATA_DIR=str(site.data_dir),
        VIGIL_SCAN_WORKERS="1",  # scans started from the page: no process pool to start
    )
    env.update(site.env)
    env.update(extra_env)
    log = site.root / f"serve-{port}.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [VIGIL, "-q", "serve", "--port", str(port), *args], env=env, stdout=fh, stderr=subprocess.STDOUT
        )
    served = Served(f"http://127.0.0.1:{port}", proc, log)
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                if httpx.get(f"{served.base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"vigil serve did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield served
    finally:
        status = served.stop()
    assert status in (0, -signal.SIGTERM), f"exit status {status}:\n{log.read_text(errors='replace')}"


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')
FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


class Browser:
    """An httpx client that behaves like a logged-in browser tab (no redirects followed)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
        self.csrf = ""
        self.name: str | None = None

    def login(self, name: str, password: str = PASSWORD, *, expect: int = 303) -> Browser:
        response = self.try_login(name, password)
        assert response.status_code == expect, (response.status_code, response.text[:500])
        if expect == 303:
            self.name = name
            self.refresh_csrf()
        return self

    def try_login(self, name: str, password: str) -> httpx.Response:
        form = self.client.get("/login")
        token = FORM_TOKEN.search(form.text)
        assert token, form.text[:500]
        return self.client.post(
            "/login", data={"name": name, "password": password, "csrf_token": token.group(1), "next": "/"}
        )

    def refresh_csrf(self) -> str:
        page = self.client.get("/settings")
        assert page.status_code == 200, page.status_code
        found = CSRF_META.search(page.text)
        assert found and found.group(1)
        self.csrf = found.group(1)
        return self.csrf

    @property
    def session_cookie(self) -> str | None:
        return self.client.cookies.get("vigil_session")

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.get(path, **kw)

    def form(
        self, path: str, data: dict[str, Any] | None = None, *, csrf: str | None = None
    ) -> httpx.Response:
        """A plain HTML form POST (the token in the csrf_token field)."""
        body = dict(data or {})
        token = self.csrf if csrf is None else csrf
        if token:
            body["csrf_token"] = token
        return self.client.post(path, data=body)

    def htmx(
        self, path: str, data: dict[str, Any] | None = None, *, csrf: str | None = None
    ) -> httpx.Response:
        """An htmx POST (the token in the X-CSRF-Token header)."""
        headers = {"HX-Request": "true"}
        token = self.csrf if csrf is None else csrf
        if token:
            headers["X-CSRF-Token"] = token
        return self.client.post(path, data=data or {}, headers=headers)

    def close(self) -> None:
        self.client.close()


def item_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'class="tile"[^>]*data-item="(\d+)"', html)]


def thumb_urls(html: str) -> list[str]:
    return re.findall(r'src="(/review/item/\d+/sighting/\d+/(?:thumb|frame/\d+))"', html)


def groups(html: str) -> list[list[int]]:
    """The near-duplicate groups of a grading page in page order, as lists of item ids (a single item is
    a group of one; the page shows runs of them together)."""
    out = []
    for chunk in re.split(r'<div class="group(?= |")', html)[1:]:
        ids = [int(x) for x in re.findall(r'class="tile"[^>]*data-item="(\d+)"', chunk)]
        out.extend([[i] for i in ids] if chunk.startswith(" singles") else [ids])
    return out


@dataclass(frozen=True)
class Sighting:
    item_id: int
    scan_item_id: int
    path: str
    media_type: str | None


def sightings(site: Site, scan_id: int | None = None) -> list[Sighting]:
    """The review items of a scan with the scan item (and path) each was seen as."""
    from sqlalchemy import select

    from vigil.store.models import ReviewLink, ScanItem

    with site.store() as store, store.session() as session:
        rows = session.execute(
            select(ReviewLink.item_id, ScanItem.id, ScanItem.path, ScanItem.media_type)
            .join(ScanItem, ScanItem.id == ReviewLink.scan_item_id)
            .where(ReviewLink.scan_id == (scan_id or site.scan_id))
            .order_by(ReviewLink.item_id)
        ).all()
    return [Sighting(int(i), int(s), p, m) for i, s, p, m in rows]


def sighting_of(site: Site, path: Path) -> Sighting:
    return next(s for s in sightings(site) if s.path == str(path))


def vote(site: Site, user: str, item_id: int, category: str) -> str:
    """Cast one vote in-process through the domain layer; the item's status after it."""
    from sqlalchemy import select

    from vigil.review import Grade, cast_vote
    from vigil.store.models import User

    with site.store() as store, store.transaction() as session:
        row = session.scalar(select(User).where(User.name == user))
        assert row is not None
        return cast_vote(session, item_id, row, Grade(category), store.settings).status
