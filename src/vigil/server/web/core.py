"""What every page of the review app shares: the store, settings, templates, and how refusals are answered.

Pages (a browser navigating) and calls (htmx requests, JSON) are answered differently: an anonymous page
visit is sent to /login with a 303, an anonymous call gets 401 (with ``HX-Redirect: /login`` so htmx sends
the browser there); a refused role is a 403 page or a 403 JSON body. Every 403 (wrong role, missing CSRF
token, outside the evidence roots, ...) is recorded in the audit chain (``web.refused``: who, the method and
path, the reason), so probing the app leaves a trace.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from vigil import __version__
from vigil.core.text import shown_value
from vigil.server.limits import SharedLimiter
from vigil.server.web.evidence import parse_roots
from vigil.server.web.thumbs import ThumbCache
from vigil.store import Store, audit

HERE = Path(__file__).parent
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; "
        "media-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Viewer:
    """The logged-in user of one request."""

    user_id: int
    name: str
    role: str
    csrf: str
    session_id: int
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def actor(self) -> str:
        return f"user:{self.name}"


class NeedLogin(Exception):
    """No valid session."""


class Refused(Exception):
    """A logged-in user may not do this (wrong role, missing CSRF token, outside the evidence)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def is_call(request: Request) -> bool:
    """htmx and JSON requests get status codes; page navigations get pages and redirects."""
    if request.headers.get("hx-request") == "true":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


class Web:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.settings = store.settings
        self.data = store.data_root
        self.scans_dir = self.data / "scans"
        self.thumbs = ThumbCache(
            self.data / "thumbs", self.settings.max_image_pixels, self.settings.thumb_cache_mb << 20
        )
        # Login attempts per client address, shared by the workers (the lock-out is per account).
        self.login_limiter = SharedLimiter(self.data / "ratelimit" / "login")
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.globals["version"] = __version__
        self.templates.env.filters["shown"] = shown_value  # paths: bidi and zero-width characters as <U+XXXX>

    @property
    def evidence_roots(self) -> list[Path]:
        """Read each time: a folder created after start-up counts once it exists."""
        return parse_roots(self.settings.evidence_roots)

    @property
    def scan_roots(self) -> list[Path]:
        """Where finished scan folders may be attached from."""
        own = [Path(os.path.realpath(self.scans_dir))] if self.scans_dir.is_dir() else []
        return [*own, *parse_roots(self.settings.scan_roots), *self.evidence_roots]

    def page(
        self,
        request: Request,
        name: str,
        viewer: Viewer | None,
        status: int = 200,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> Response:
        return self.templates.TemplateResponse(
            request,
            name,
            {"viewer": viewer, "csrf": viewer.csrf if viewer else context.pop("csrf", ""), **context},
            status_code=status,
            headers=headers,
        )

    def need_login(self, request: Request, _exc: Exception) -> Response:
        if is_call(request):
            return JSONResponse(
                {"detail": "log in first"}, status_code=401, headers={"HX-Redirect": "/login"}
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    def refused(self, request: Request, exc: Exception) -> Response:
        """A refusal's page or JSON body; a 403 also goes to the audit chain. Starlette runs this sync
        handler in its thread pool, so the audit write does not hold up the event loop."""
        assert isinstance(exc, Refused)
        if exc.status == 403:
            viewer: Viewer | None = getattr(request.state, "viewer", None)
            actor = viewer.actor if viewer else "web:anonymous"
            details = {"method": request.method, "reason": exc.reason}
            audit.record(self.store, audit.Event(actor, "web.refused", request.url.path, details))
        if is_call(request):
            return JSONResponse({"detail": exc.reason}, status_code=exc.status)
        return self.page(request, "refused.html", None, status=exc.status, reason=exc.reason, code=exc.status)
