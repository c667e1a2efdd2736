"""The review web app (issue 6): mounted on the same FastAPI app as the matching API by `vigil serve`.

Jinja2 pages with htmx (vendored in static/, nothing from a CDN), no build step. Every route is kept out
of the OpenAPI schema (that schema is the matching API's contract) and starts with the `Guard` dependency
(session, role, CSRF on POST); tests/web/test_matrix.py lists who may use what.

The route modules do without ``from __future__ import annotations``: FastAPI evaluates each route's
``Annotated[Viewer, Depends(...)]`` and those dependencies are local to the module's ``routes()`` (or to
the function it calls to add one group of routes).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigil.store import Store

from .auth import Guard, Sessions
from .core import HERE, SECURITY_HEADERS, NeedLogin, Refused, Web


class SecurityHeaders:
    """Pure ASGI middleware: the review app's responses (everything outside /api/) get the
    Content-Security-Policy and friends; static files may be cached (revalidated), pages never."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else "/api/"
        if path.startswith("/api/"):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if path.startswith("/static/"):
                    headers["Cache-Control"] = "no-cache"
            await send(message)

        await self.app(scope, receive, with_headers)


def mount(app: FastAPI, store: Store) -> None:
    """Add the review app's routes to `app` (sharing the API's store)."""
    from . import admin, home, login, media, review, scans, wellness

    web = Web(store)
    sessions = Sessions(web)
    guard = Guard(web, sessions)
    app.add_exception_handler(NeedLogin, web.need_login)
    app.add_exception_handler(Refused, web.refused)

    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (login, home, scans, review, media, wellness, admin):
        app.include_router(module.routes(web, sessions, guard))
