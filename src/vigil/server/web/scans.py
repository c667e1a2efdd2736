"""Cases and scans: the list, a scan's page, starting a scan on evidence inside VIGIL_EVIDENCE_ROOTS, and
attaching a finished --out folder for review.

- ``GET /scans`` (everyone): cases, scans, running jobs; the forms for analysts and admins.
- ``POST /scans`` (analyst, admin): start `vigil scan` on the listed evidence paths → the job's page.
- ``GET /scans/jobs/{job}`` (everyone): a job's state (htmx polls it while it runs).
- ``POST /scans/attach`` (analyst, admin): attach a finished --out folder (inside VIGIL_SCAN_ROOTS, the
  evidence roots or the data folder's scans/) → the scan's page.
- ``GET /scans/{id}`` (everyone): summary, counts, the items with their verdicts.
- ``POST /scans/{id}/attach`` (analyst, admin): put a recorded scan's similar and unknown items up for review.
"""

from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from starlette.datastructures import FormData

from vigil.store import audit
from vigil.store.models import Case, Scan, ScanItem

from .auth import ANALYSTS, EVERYONE, Guard, Sessions
from .core import Refused, Viewer, Web
from .domain import Domain
from .evidence import inside
from .jobs import MAX_RUNNING, Job, Jobs

DbId = Annotated[int, Path(ge=1, le=2**63 - 1)]
PAGE = 200
MAX_EVIDENCE = 100


def routes(web: Web, _sessions: Sessions, guard: Guard) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    domain = Domain(web)
    jobs = Jobs(web.scans_dir, web.store.url, web.settings.scan_workers)
    anyone = Depends(guard(*EVERYONE))
    analyst = Depends(guard(*ANALYSTS))
    add_scan_list(router, web, domain, jobs, anyone)
    add_jobs(router, web, domain, jobs, anyone, analyst)
    add_attach(router, web, domain, analyst)
    add_scan_page(router, web, domain, anyone)
    return router


def add_scan_list(router: APIRouter, web: Web, domain: Domain, jobs: Jobs, anyone: Any) -> None:
    """``GET /scans``."""

    @router.get("/scans")
    def scans_page(
        request: Request,
        viewer: Annotated[Viewer, anyone],
        case: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    ) -> Response:
        scans, cases = list_scans(web, case)
        return web.page(
            request,
            "scans.html",
            viewer,
            scans=scans,
            cases=cases,
            case_id=case,
            jobs=jobs.all()[:20],
            roots=web.evidence_roots,
            queues=domain.open_counts([s["id"] for s in scans]),
            exposure=domain.exposure_of(viewer),
        )


def list_scans(web: Web, case: int | None) -> tuple[list[dict[str, Any]], list[Any]]:
    """The newest `PAGE` scans (of one case, if given), and every case with its number of scans."""
    with web.store.session() as db:
        query = (
            select(Scan.id, Scan.evidence, Scan.started_at, Scan.finished_at, Scan.summary, Case.name)
            .outerjoin(Case, Case.id == Scan.case_id)
            .order_by(Scan.id.desc())
        )
        if case is not None:
            query = query.where(Scan.case_id == case)
        rows = db.execute(query.limit(PAGE)).all()
        cases = db.execute(
            select(Case.id, Case.name, func.count(Scan.id))
            .outerjoin(Scan, Scan.case_id == Case.id)
            .group_by(Case.id, Case.name)
            .order_by(Case.name)
        ).all()
    scans = [
        {
            "id": sid,
            "evidence": evidence or [],
            "started_at": started,
            "finished_at": finished,
            "verdicts": (summary or {}).get("verdicts", {}),
            "case": case_name,
        }
        for sid, evidence, started, finished, summary, case_name in rows
    ]
    return scans, list(cases)


def add_jobs(router: APIRouter, web: Web, domain: Domain, jobs: Jobs, anyone: Any, analyst: Any) -> None:
    """``POST /scans`` (start a scan) and ``GET /scans/jobs/{job}``."""

    def attach_job(job: Job) -> None:
        domain.attach(jobs.out_dir(job.id), job.user, job.case)

    def start(evidence: list[str], case: str | None, viewer: Viewer) -> Job:
        job_id = jobs.new_id()
        with web.store.transaction() as db:  # audited before it starts
            details = {"evidence": evidence, "case": case}
            audit.append(db, audit.Event(viewer.actor, "scan.start", f"job:{job_id}", details))
        return jobs.start(job_id, evidence, case, viewer.name, attach_job)

    @router.post("/scans")
    async def start_scan(request: Request, viewer: Annotated[Viewer, analyst]) -> Response:
        form = await request.form()
        case = case_name(form)
        wanted = [line.strip() for line in str(form.get("evidence") or "").splitlines() if line.strip()]
        if not wanted or len(wanted) > MAX_EVIDENCE:
            raise Refused(422, f"list 1 to {MAX_EVIDENCE} evidence paths, one a line")
        roots = web.evidence_roots
        if not roots:
            raise Refused(403, "no evidence roots are configured (VIGIL_EVIDENCE_ROOTS)")
        checked = []
        for path in wanted:
            real = inside(path, roots)
            if real is None or not real.exists():
                raise Refused(403, f"{path!r} is not inside the evidence roots")
            checked.append(str(real))
        if jobs.running() >= MAX_RUNNING:
            raise Refused(429, f"{MAX_RUNNING} scans are running already: wait for one to finish")
        job = await run_in_threadpool(start, checked, case, viewer)
        return RedirectResponse(f"/scans/jobs/{job.id}", status_code=303)

    @router.get("/scans/jobs/{job_id}")
    def job_page(request: Request, job_id: str, viewer: Annotated[Viewer, anyone]) -> Response:
        job = jobs.get(job_id)
        if job is None:
            raise Refused(404, "no such scan job")
        template = "_job.html" if request.headers.get("hx-request") == "true" else "job.html"
        return web.page(request, template, viewer, job=job, log=jobs.log_tail(job.id))


def case_name(form: FormData) -> str | None:
    """The form's optional case name (422 past 200 characters)."""
    case = str(form.get("case") or "").strip() or None
    if case is not None and len(case) > 200:
        raise Refused(422, "a case name has at most 200 characters")
    return case


def add_attach(router: APIRouter, web: Web, domain: Domain, analyst: Any) -> None:
    """``POST /scans/attach`` (a finished --out folder) and ``POST /scans/{id}/attach`` (a recorded scan)."""

    @router.post("/scans/attach")
    async def attach_folder(request: Request, viewer: Annotated[Viewer, analyst]) -> Response:
        form = await request.form()
        folder = str(form.get("folder") or "").strip()
        real = inside(folder, web.scan_roots) if folder else None
        if real is None or not real.is_dir():
            raise Refused(
                403,
                "the folder is not inside the scan roots (VIGIL_SCAN_ROOTS), the evidence roots "
                "or the server's scans folder",
            )
        case = case_name(form)
        scan_id = await run_in_threadpool(domain.attach, real, viewer.name, case)
        return RedirectResponse(f"/scans/{scan_id}", status_code=303)

    @router.post("/scans/{scan_id:int}/attach")
    def attach_scan(scan_id: DbId, viewer: Annotated[Viewer, analyst]) -> Response:
        with web.store.session() as db:
            scan = db.get(Scan, scan_id)
            if scan is None:
                raise Refused(404, "no such scan")
            out = FsPath(scan.out_dir)
        domain.attach(out, viewer.name)
        return RedirectResponse(f"/scans/{scan_id}", status_code=303)


def add_scan_page(router: APIRouter, web: Web, domain: Domain, anyone: Any) -> None:
    """``GET /scans/{id}``."""

    @router.get("/scans/{scan_id:int}")
    def scan_page(
        request: Request,
        scan_id: DbId,
        viewer: Annotated[Viewer, anyone],
        verdict: Annotated[str | None, Query(max_length=20)] = None,
        page: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> Response:
        info, items = scan_view(web, scan_id, verdict, page)
        return web.page(
            request,
            "scan.html",
            viewer,
            scan=info,
            items=[_item_view(i) for i in items[:PAGE]],
            more=len(items) > PAGE,
            page=page,
            verdict=verdict,
            queue=domain.open_counts([scan_id]).get(scan_id),
            exposure=domain.exposure_of(viewer),
        )


def scan_view(
    web: Web, scan_id: int, verdict: str | None, page: int
) -> tuple[dict[str, Any], list[ScanItem]]:
    """A scan's summary and one page of its items (`PAGE` + 1 of them: one more says there is a next page)."""
    with web.store.session() as db:
        scan = db.get(Scan, scan_id)
        if scan is None:
            raise Refused(404, "no such scan")
        case = db.scalar(select(Case.name).where(Case.id == scan.case_id)) if scan.case_id else None
        query = select(ScanItem).where(ScanItem.scan_id == scan_id)
        if verdict:
            query = query.where(ScanItem.verdict == verdict)
        items = db.scalars(query.order_by(ScanItem.id).offset(page * PAGE).limit(PAGE + 1)).all()
        info: dict[str, Any] = {
            "id": scan.id,
            "evidence": scan.evidence,
            "out_dir": scan.out_dir,
            "started_at": scan.started_at,
            "finished_at": scan.finished_at,
            "summary": scan.summary or {},
            "case": case,
        }
    return info, list(items)


def _item_view(item: ScanItem) -> dict[str, Any]:
    matches = item.matches or []
    return {
        "id": item.id,
        "path": item.path,
        "size": item.size,
        "media_type": item.media_type,
        "verdict": item.verdict,
        "status": item.status,
        "error": item.error,
        "categories": sorted({m.get("category") for m in matches if m.get("category")}),
    }
