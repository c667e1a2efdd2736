"""``GET /api/v1/health`` (the process answers) and ``GET /api/v1/ready`` (the store answers, the snapshot
is loaded and so are the entries' confirmation times: until then every lookup would ask the store)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from vigil.server.api.deps import state_of


def add_routes(router: APIRouter) -> None:
    router.add_api_route("/api/v1/health", health, methods=["GET"])
    router.add_api_route("/api/v1/ready", ready, methods=["GET"])


def health() -> dict[str, str]:
    return {"status": "ok"}


def ready(request: Request) -> JSONResponse:
    snapshot = state_of(request).snapshot
    try:
        snapshot.current()
    except Exception as exc:  # the store does not answer: not ready, with the reason
        return JSONResponse({"status": "not ready", "reason": str(exc)}, status_code=503)
    if not snapshot.times_read.wait(timeout=1.0):
        # Until then every lookup would ask the store when its matches were last confirmed.
        return JSONResponse(
            {"status": "not ready", "reason": "reading when each entry was last confirmed"},
            status_code=503,
        )
    return JSONResponse({"status": "ready", "store_seq": snapshot.seq})
