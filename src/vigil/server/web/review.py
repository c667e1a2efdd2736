"""The review queues and the grading page (reviewers and admins).

- ``GET /review``: the queues (each attached scan, each case, the platform submissions).
- ``GET /review/scan/{id}``, ``/review/case/{id}``, ``/review/submissions``: the grading grid, similar
  items first, near-duplicates grouped (vigil.review decides the order and the groups).
- ``POST /review/grade``: one grade (category, series, victim identified, notes) for one or more items.
- ``POST /review/reveal``: the page revealed one thumbnail (counted for wellness, audited).
"""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import FormData

from vigil.core.categories import CATEGORIES
from vigil.review import QueueGroup, Scope
from vigil.store.models import Case, Scan

from .auth import REVIEWERS, Guard, Sessions
from .core import Refused, Viewer, Web
from .domain import Domain
from .thumbs import FRAMES

DbId = Annotated[int, Path(ge=1, le=2**63 - 1)]
PageNo = Annotated[int, Query(ge=1, le=1_000_000)]
MAX_GRADE = 1000
MAX_TEXT = 4000


def blocks(groups: list[QueueGroup]) -> list[dict[str, Any]]:
    """The grid's rows: each near-duplicate group on its own, runs of single items (same verdict) together,
    in the queue's order."""
    out: list[dict[str, Any]] = []
    for group in groups:
        single = len(group.items) == 1
        last = out[-1] if out else None
        if single and last is not None and last["singles"] and last["verdict"] == group.verdict:
            last["items"].extend(group.items)
        else:
            out.append(
                {
                    "group_id": group.group_id,
                    "verdict": group.verdict,
                    "singles": single,
                    "items": list(group.items),
                }
            )
    return out


@dataclass(frozen=True)
class GradeForm:
    """A checked ``POST /review/grade`` form."""

    items: list[int]
    category: str
    series: str | None
    victim_identified: bool
    notes: str | None


def read_grade(form: FormData) -> GradeForm:
    """The grade form's fields, checked (422 with the reason)."""
    try:
        items = [int(str(v)) for v in form.getlist("item")]
    except ValueError:
        raise Refused(422, "item ids are numbers") from None
    category = str(form.get("category") or "").strip().upper()
    series = str(form.get("series") or "").strip() or None
    notes = str(form.get("notes") or "").strip() or None
    victim = str(form.get("victim_identified") or "") in ("1", "on", "true", "yes")
    if not items or len(items) > MAX_GRADE or any(not 0 < i < 2**63 for i in items):
        raise Refused(422, f"choose 1 to {MAX_GRADE} items")
    if category not in CATEGORIES:
        raise Refused(422, f"unknown category {category!r} (known: {', '.join(CATEGORIES)})")
    if (series and len(series) > 200) or (notes and len(notes) > MAX_TEXT):
        raise Refused(422, "series at most 200 characters, notes at most 4000")
    return GradeForm(items, category, series, victim, notes)


def grid(
    web: Web, domain: Domain, request: Request, viewer: Viewer, scope: Scope, title: str, page: int
) -> Response:
    """The grading page of one queue."""
    queue, submissions = domain.queue(viewer, scope, page)
    return web.page(
        request,
        "queue.html",
        viewer,
        queue=queue,
        blocks=blocks(queue.groups),
        submissions=submissions,
        frames=FRAMES,
        scope=str(scope),
        title=title,
        categories=CATEGORIES,
        exposure=domain.exposure_of(viewer),
    )


def routes(web: Web, _sessions: Sessions, guard: Guard) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    domain = Domain(web)
    reviewer = Depends(guard(*REVIEWERS))

    @router.get("/review")
    def queues(request: Request, viewer: Annotated[Viewer, reviewer]) -> Response:
        return web.page(
            request, "queues.html", viewer, queues=domain.queues(viewer), exposure=domain.exposure_of(viewer)
        )

    @router.get("/review/scan/{scan_id:int}")
    def scan_queue(
        request: Request, scan_id: DbId, viewer: Annotated[Viewer, reviewer], page: PageNo = 1
    ) -> Response:
        with web.store.session() as db:
            if db.get(Scan, scan_id) is None:
                raise Refused(404, "no such scan")
        return grid(web, domain, request, viewer, Scope.scan(scan_id), f"Scan {scan_id}", page)

    @router.get("/review/case/{case_id:int}")
    def case_queue(
        request: Request, case_id: DbId, viewer: Annotated[Viewer, reviewer], page: PageNo = 1
    ) -> Response:
        with web.store.session() as db:
            case = db.get(Case, case_id)
            if case is None:
                raise Refused(404, "no such case")
            name = case.name
        return grid(web, domain, request, viewer, Scope.case(case_id), f"Case {name}", page)

    @router.get("/review/submissions")
    def submissions_queue(
        request: Request, viewer: Annotated[Viewer, reviewer], page: PageNo = 1
    ) -> Response:
        domain.attach_submissions()
        return grid(web, domain, request, viewer, Scope.submissions(), "Platform submissions", page)

    @router.post("/review/grade")
    async def grade(request: Request, viewer: Annotated[Viewer, reviewer]) -> Response:
        g = read_grade(await request.form())
        outcomes = await run_in_threadpool(
            domain.grade, viewer, g.items, g.category, g.series, g.victim_identified, g.notes
        )
        return web.page(request, "_graded.html", viewer, outcomes=outcomes, category=g.category)

    @router.post("/review/reveal")
    async def reveal(request: Request, viewer: Annotated[Viewer, reviewer]) -> Response:
        form = await request.form()
        try:
            item = int(str(form.get("item") or ""))
        except ValueError:
            raise Refused(422, "item: a review item id") from None
        if not 0 < item < 2**63:
            raise Refused(422, "item: a review item id")
        exposure = await run_in_threadpool(domain.reveal, viewer, item)
        return web.page(request, "_exposure.html", viewer, exposure=exposure)

    return router
