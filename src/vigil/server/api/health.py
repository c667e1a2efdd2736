"""``GET /api/v1/health`` (the process answers) and ``GET /api/v1/ready`` (the store answers, the snapshot
is loaded and so are the entries' confirmation times: until then every lookup would ask the store)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from vigil.server.api.deps import state_of

router = APIRouter()


@router.get("/api/v1/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/api/v1/ready")
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
