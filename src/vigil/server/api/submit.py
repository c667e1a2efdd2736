"""``POST /api/v1/submit``: a platform reports a match or a new suspected hash.

It waits in the review queue (a ``submission`` row) and becomes known only through a reviewer's grade;
nothing of the store's known hashes changes here.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from vigil.server.api.deps import SubmitKey, state_of
from vigil.server.api.schemas import SubmitIn, SubmitOut
from vigil.server.body import BodyError, parse_hashes
from vigil.store import audit
from vigil.store.models import Submission


def add_routes(router: APIRouter) -> None:
    router.add_api_route(
        "/api/v1/submit", submit, methods=["POST"], response_model=SubmitOut, status_code=202
    )


def submit(request: Request, body: SubmitIn, key: SubmitKey) -> dict[str, Any]:
    """Report a match or a new suspected item; it waits for a reviewer (nothing becomes known here)."""
    try:
        parsed = parse_hashes([h.model_dump() for h in body.hashes])
    except BodyError as exc:
        raise HTTPException(422, str(exc)) from None
    if len({name for name, _ in parsed}) != len(parsed):
        raise HTTPException(422, "hashes: one value per signal")
    state = state_of(request)
    found, _ = state.snapshot.lookup_many(parsed)
    matched = next((eid for row in found for eid, _ in row), None)
    with state.store.transaction() as session:
        details = {"kind": body.kind, "signals": sorted(n for n, _ in parsed), "matched": matched is not None}
        audit.append(session, audit.Event(f"apikey:{key.name}", "api.submit", None, details))
        row = Submission(
            api_key_id=key.id,
            kind=body.kind,
            hashes={name: value.hex() for name, value in parsed},
            entry_id=matched,
            reporter_ref=body.reporter_ref,
            platform=body.platform,
            reported_at=body.reported_at,
            location=body.location,
            media_type=body.media_type,
            notes=body.notes,
        )
        session.add(row)
        session.flush()
        return {"id": row.id, "status": row.status or "pending", "matched_entry_id": matched}
