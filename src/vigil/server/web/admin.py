"""Admin pages: the arbitration queue (reviewers disagreed; an admin decides) and the team's exposure.

- ``GET /arbitration``: disputed items with every vote; thumbnails blurred as everywhere.
- ``POST /arbitration/{item}``: the decision (category, series, victim identified, notes); recorded and
  audited by vigil.review.grading.arbitrate.
- ``GET /admin/wellness``: exposure totals per reviewer per day (never per picture).
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from vigil.core.categories import CATEGORIES

from .auth import ADMIN, Guard, Sessions
from .core import Refused, Viewer, Web
from .domain import Domain
from .thumbs import FRAMES

DbId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def routes(web: Web, _sessions: Sessions, guard: Guard) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    domain = Domain(web)
    admin = Depends(guard(*ADMIN))

    @router.get("/arbitration")
    def arbitration_page(
        request: Request,
        viewer: Annotated[Viewer, admin],
        page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
        decided: int = 0,
    ) -> Response:
        details, total = domain.arbitration(page)
        return web.page(
            request,
            "arbitration.html",
            viewer,
            details=details,
            total=total,
            page=page,
            decided=decided,
            categories=CATEGORIES,
            frames=FRAMES,
            exposure=domain.exposure_of(viewer),
        )

    @router.post("/arbitration/{item_id:int}")
    async def decide(request: Request, item_id: DbId, viewer: Annotated[Viewer, admin]) -> Response:
        form = await request.form()
        category = str(form.get("category") or "").strip().upper()
        if category not in CATEGORIES:
            raise Refused(422, f"unknown category {category!r} (known: {', '.join(CATEGORIES)})")
        series = str(form.get("series") or "").strip() or None
        notes = str(form.get("notes") or "").strip() or None
        victim = str(form.get("victim_identified") or "") in ("1", "on", "true", "yes")
        await run_in_threadpool(domain.arbitrate, viewer, item_id, category, series, victim, notes)
        return RedirectResponse(f"/arbitration?decided={item_id}", status_code=303)

    @router.get("/admin/wellness")
    def team_page(
        request: Request,
        viewer: Annotated[Viewer, admin],
        days: Annotated[int, Query(ge=1, le=366)] = 14,
    ) -> Response:
        rows = domain.team(days)
        totals: dict[str, dict[str, int]] = {}
        for row in rows:
            t = totals.setdefault(row.user, {"reveals": 0, "seconds": 0, "breaks": 0, "days": 0})
            t["reveals"] += row.reveals
            t["seconds"] += row.seconds
            t["breaks"] += row.breaks
            t["days"] += 1
        return web.page(
            request,
            "team.html",
            viewer,
            rows=rows,
            totals=totals,
            days=days,
            exposure=domain.exposure_of(viewer),
        )

    return router
