"""Wellness: the exposure counter's heartbeats, breaks, and each user's settings.

- ``POST /wellness/heartbeat`` (reviewers, admins): the grading page was on screen `seconds` more
  (the domain counts at most 120 per beat) → the counter, updated.
- ``POST /wellness/break``: the user takes the break the prompt asked for → the counter.
- ``GET/POST /settings`` (everyone): blur, greyscale, break thresholds (validated and audited by
  vigil.review.wellness).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from vigil.review.wellness import SETTING_RULES

from .auth import EVERYONE, REVIEWERS, Guard, Sessions
from .core import Refused, Viewer, Web
from .domain import Domain

BOOLEAN = ("blur", "greyscale")
HOVER = "reveal_on_hover"  # offered when vigil.review.wellness accepts it
NUMBERS = ("break_after_reveals", "break_after_minutes")


def routes(web: Web, _sessions: Sessions, guard: Guard) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    domain = Domain(web)
    reviewer = Depends(guard(*REVIEWERS))
    anyone = Depends(guard(*EVERYONE))

    @router.post("/wellness/heartbeat")
    async def heartbeat(request: Request, viewer: Annotated[Viewer, reviewer]) -> Response:
        form = await request.form()
        try:
            seconds = int(str(form.get("seconds") or "0"))
        except ValueError:
            raise Refused(422, "seconds: a whole number") from None
        if not 0 <= seconds <= 3600:
            raise Refused(422, "seconds: 0 to 3600")
        exposure = await run_in_threadpool(domain.heartbeat, viewer, seconds)
        return web.page(request, "_exposure.html", viewer, exposure=exposure)

    @router.post("/wellness/break")
    def take_break(request: Request, viewer: Annotated[Viewer, reviewer]) -> Response:
        return web.page(request, "_exposure.html", viewer, exposure=domain.take_break(viewer))

    @router.get("/settings")
    def settings_page(request: Request, viewer: Annotated[Viewer, anyone], saved: int = 0) -> Response:
        return web.page(
            request,
            "settings.html",
            viewer,
            prefs=viewer.settings,
            hover_setting=HOVER in SETTING_RULES,
            saved=bool(saved),
            exposure=domain.exposure_of(viewer),
        )

    @router.post("/settings")
    async def save_settings(request: Request, viewer: Annotated[Viewer, anyone]) -> Response:
        form = await request.form()
        flags = (*BOOLEAN, HOVER) if HOVER in SETTING_RULES else BOOLEAN
        changes: dict[str, Any] = {name: form.get(name) == "1" for name in flags}
        for name in NUMBERS:
            value = form.get(name)
            if value is not None:
                changes[name] = str(value)
        await run_in_threadpool(domain.save_settings, viewer, changes)
        return RedirectResponse("/settings?saved=1", status_code=303)

    return router
