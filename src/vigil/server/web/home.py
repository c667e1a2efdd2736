"""GET / — the start page: what waits for this user."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from .auth import EVERYONE, Guard, Sessions
from .core import Viewer, Web
from .domain import Domain


def routes(web: Web, _sessions: Sessions, guard: Guard) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    domain = Domain(web)

    @router.get("/")
    def home(request: Request, viewer: Annotated[Viewer, Depends(guard(*EVERYONE))]) -> Response:
        return web.page(
            request,
            "home.html",
            viewer,
            counts=domain.counts(viewer),
            exposure=domain.exposure_of(viewer),
        )

    return router
