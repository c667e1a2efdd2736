"""Who may use which route: every review-app route × (anonymous, analyst, reviewer, admin), with the exact
status expected in each cell, against a real `vigil serve` on SQLite and on PostgreSQL.

The matrix is data (ROUTES). A route the app has but the matrix lacks fails the test, so a new route
cannot be added without deciding who may use it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Mount

from tests.web.harness import (
    ROLE_USER,
    Browser,
    Site,
    build_site,
    serve,
    sighting_of,
    sightings,
    vote,
)
from vigil.store import Store

ANON = None
ADMIN = ("admin",)
REVIEWERS = ("admin", "reviewer")
ANALYSTS = ("admin", "analyst")
EVERYONE = ("admin", "reviewer", "analyst")
ROLES = (ANON, "analyst", "reviewer", "admin")


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as the app declares it; {name} filled from the world's ids
    roles: tuple[str, ...]  # who may
    ok: int  # the status those get with `data`
    kind: str = "page"  # page (anonymous: 303 to /login), htmx (anonymous: 401), or public
    data: dict[str, Any] = field(default_factory=dict)
    anon: int | None = None  # anonymous status when not the kind's default
    others: int = 403  # status for a logged-in user without the role


ROUTES = [
    Route("GET", "/static/{path:path}", EVERYONE, 200, "public", anon=200, others=200),
    Route("GET", "/login", EVERYONE, 303, "public", anon=200),
    # Without the login form's own token (a cross-site login attempt): refused whoever sends it.
    Route("POST", "/login", EVERYONE, 403, "public", {"name": "ada", "password": "x" * 12}, anon=403),
    Route("GET", "/", EVERYONE, 200),
    Route("GET", "/scans", EVERYONE, 200),
    Route("POST", "/scans", ANALYSTS, 422, data={"evidence": ""}),
    Route("GET", "/scans/jobs/{job_id}", EVERYONE, 200),
    Route("POST", "/scans/attach", ANALYSTS, 303, data={"folder": "{out}"}),
    Route("GET", "/scans/{scan_id:int}", EVERYONE, 200),
    Route("POST", "/scans/{scan_id:int}/attach", ANALYSTS, 303),
    Route("GET", "/review", REVIEWERS, 200),
    Route("GET", "/review/scan/{scan_id:int}", REVIEWERS, 200),
    Route("GET", "/review/case/{case_id:int}", REVIEWERS, 200),
    Route("GET", "/review/submissions", REVIEWERS, 200),
    Route("POST", "/review/grade", REVIEWERS, 200, "htmx", {"item": "{open_item}", "category": "A"}),
    Route("POST", "/review/reveal", REVIEWERS, 200, "htmx", {"item": "{image_item}"}),
    Route("GET", "/review/item/{item_id:int}/sighting/{scan_item_id:int}/thumb", REVIEWERS, 200),
    Route("GET", "/review/item/{item_id:int}/sighting/{scan_item_id:int}/frame/{k:int}", REVIEWERS, 200),
    Route("POST", "/wellness/heartbeat", REVIEWERS, 200, "htmx", {"seconds": "30"}),
    Route("POST", "/wellness/break", REVIEWERS, 200, "htmx"),
    Route("GET", "/settings", EVERYONE, 200),
    Route(
        "POST", "/settings", EVERYONE, 303, data={"blur": "1", "greyscale": "1", "break_after_reveals": "50"}
    ),
    Route("GET", "/arbitration", ADMIN, 200),
    Route("POST", "/arbitration/{item_id:int}", ADMIN, 303, data={"category": "B"}),
    Route("GET", "/admin/wellness", ADMIN, 200),
    Route("POST", "/logout", EVERYONE, 303),  # last: it ends the session
]


def expected(route: Route, role: str | None) -> int:
    if role is None:
        if route.anon is not None:
            return route.anon
        return 401 if route.kind == "htmx" else 303
    return route.ok if role in route.roles else route.others


def world(site: Site) -> dict[str, Any]:
    """The ids the matrix's URLs and bodies use: a picture, a video, a disputed item, a finished job."""
    image = sighting_of(site, site.files["other1"])
    video = sighting_of(site, site.files["video"])
    disputed = sighting_of(site, site.files["other2"]).item_id
    assert vote(site, "rob", disputed, "B") == "open"
    assert vote(site, "rita", disputed, "C") == "arbitration"
    open_item = sighting_of(site, site.files["other3"]).item_id
    with site.store() as store, store.transaction() as session:
        from vigil.store.models import Scan

        case_id = _case(session, site.scan_id)
        assert session.get(Scan, site.scan_id) is not None
    job_id = "20250101-000000-abcdef"
    jobs = site.data_dir / "scans"
    jobs.mkdir(parents=True, exist_ok=True)
    (jobs / f"{job_id}.json").write_text(
        json.dumps(
            {
                "id": job_id,
                "user": "anna",
                "evidence": [str(site.evidence)],
                "case": None,
                "started_at": "2025-01-01T00:00:00+00:00",
                "pid": None,
                "returncode": 0,
                "finished_at": "2025-01-01T00:01:00+00:00",
                "scan_id": site.scan_id,
                "attach_error": None,
            }
        )
    )
    return {
        "path:path": "vigil.css",
        "job_id": job_id,
        "scan_id:int": site.scan_id,
        "case_id:int": case_id,
        "item_id:int": disputed,
        "scan_item_id:int": image.scan_item_id,
        "k:int": 0,
        "out": str(site.out),
        "open_item": open_item,
        "image_item": image.item_id,
        "_image": image,
        "_video": video,
    }


def _case(session: Any, scan_id: int) -> int:
    from vigil.store.models import Case, Scan

    case = Case(name="CASE-MATRIX")
    session.add(case)
    session.flush()
    session.get(Scan, scan_id).case_id = case.id
    return int(case.id)


def fill(text: str, ids: dict[str, Any], route: Route) -> str:
    if "/sighting/" in route.path:  # thumb: the picture; frame: the video
        pick = ids["_video"] if "/frame/" in route.path else ids["_image"]
        ids = {**ids, "item_id:int": pick.item_id, "scan_item_id:int": pick.scan_item_id}
    for name, value in ids.items():
        if not name.startswith("_"):
            text = text.replace("{" + name + "}", str(value))
    return text


def call(browser: Browser, route: Route, ids: dict[str, Any], role: str | None) -> httpx.Response:
    url = fill(route.path, ids, route)
    data = {k: fill(str(v), ids, route) for k, v in route.data.items()}
    if route.method == "GET":
        return browser.get(url)
    if route.path == "/login":
        return browser.client.post(url, data=data)
    if route.kind == "htmx":
        return browser.htmx(url, data)
    return browser.form(url, data)


def test_the_matrix_covers_every_route(tmp_path: Path) -> None:
    from vigil.server import web

    with Store(str(tmp_path / "s.db")) as store:
        app = FastAPI()
        web.mount(app, store)
    routes = list(_walk(app.routes))
    declared = {(m, r.path) for r in routes if isinstance(r, APIRoute) for m in r.methods}
    declared |= {("GET", f"{r.path}/{{path:path}}") for r in routes if isinstance(r, Mount)}
    assert declared == {(r.method, r.path) for r in ROUTES}
    assert not any(r.include_in_schema for r in routes if isinstance(r, APIRoute))


def _walk(routes: list[Any]) -> Any:
    """Every route, also inside included routers (newer FastAPI wraps them; mount() uses no prefixes)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _walk(inner.routes)
        else:
            yield route


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_roles_by_routes(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    db = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    site = build_site(db, tmp_path, video=True)
    ids = world(site)
    failures = []
    with serve(site) as served:
        for role in ROLES:
            browser = Browser(served.base)
            if role is not None:
                browser.login(ROLE_USER[role])
            for route in ROUTES:
                response = call(browser, route, ids, role)
                want = expected(route, role)
                if response.status_code != want:
                    failures.append(
                        f"{role or 'anonymous'} {route.method} {route.path}: {response.status_code} != {want}"
                    )
                elif want == 303 and role is None and route.kind == "page":
                    assert response.headers["location"].startswith("/login?next="), route
                elif want == 401:
                    assert route.path == "/login" or response.headers.get("hx-redirect") == "/login"
            browser.close()
        schema = httpx.get(f"{served.base}/api/v1/openapi.json").json()
    assert not failures, "\n".join(failures)
    assert all(p.startswith("/api/v1/") for p in schema["paths"]), sorted(schema["paths"])
    assert sightings(site)
