"""``GET /api/v1/changes?since=SEQ&limit=N``: the store's change feed, a page at a time (for federation)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from vigil.server.api.deps import ChangesKey, state_of
from vigil.server.api.schemas import ChangesOut
from vigil.store.models import Change, Entry

CHANGE_COLUMNS = (Change.seq, Change.entry_id, Change.kind, Change.created_at, Entry.category, Entry.status)


def add_routes(router: APIRouter) -> None:
    router.add_api_route("/api/v1/changes", changes, methods=["GET"], response_model=ChangesOut)


def changes(
    request: Request,
    key: ChangesKey,
    since: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> dict[str, Any]:
    state = state_of(request)
    with state.store.session() as session:
        rows = session.execute(
            select(*CHANGE_COLUMNS)
            .join(Entry, Entry.id == Change.entry_id)
            .where(Change.seq > since)
            .order_by(Change.seq)
            .limit(limit + 1)
        ).all()
    page = rows[:limit]
    state.audit_call(key, "api.changes", {"since": since, "returned": len(page)})
    return {
        "changes": [
            {
                "seq": s,
                "entry_id": e,
                "kind": k,
                "created_at": c.isoformat(),
                "category": cat,
                "status": st,
            }
            for s, e, k, c, cat, st in page
        ],
        "next_since": page[-1][0] if len(rows) > limit else None,
    }
