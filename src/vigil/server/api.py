"""The matching API for platforms (`/api/v1`, part of `vigil serve`; OpenAPI docs at /api/v1/docs).

- ``POST /api/v1/lookup`` — up to 10,000 hashes (md5, sha1, sha256 exactly; pdq within the PDQ radius,
  through the memory-mapped index) → matches in request order.
- ``GET /api/v1/changes?since=SEQ&limit=N`` — the store's change feed, paginated (for federation).
- ``GET /api/v1/health`` (the process answers) and ``GET /api/v1/ready`` (the store answers and the
  snapshot is loaded).

Callers send an API key as a bearer token (`vigil apikey create`); only its SHA-256 is stored. Each key
has scopes and a rate limit in requests per second (0 = unlimited), answered with 429 and Retry-After.
Bad input is a 4xx with a reason: 401 no or unknown key, 403 scope, 413 body over the limit, 422 invalid
hex, wrong length, unknown signal or too many hashes. The snapshot of the store is reloaded when the
store's change sequence moves (checked at most every `REFRESH_S` seconds).
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import time
from typing import Annotated, Any

import numpy as np
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from vigil import signals
from vigil.scan.matcher import Matcher
from vigil.store import Store
from vigil.store.models import ApiKey, Change, Entry

MAX_HASHES = 10_000
MAX_BODY = 4 << 20
REFRESH_S = 5.0
LOOKUP_SIGNALS = ("md5", "sha1", "sha256", "pdq")
CHANGE_COLUMNS = (Change.seq, Change.entry_id, Change.kind, Change.created_at, Entry.category, Entry.status)


class HashIn(BaseModel):
    signal: str = Field(description="md5, sha1, sha256 or pdq")
    value: str = Field(description="the hash in hex")


class LookupIn(BaseModel):
    hashes: list[HashIn] = Field(max_length=MAX_HASHES)


class MatchOut(BaseModel):
    entry_id: int
    distance: int
    category: str | None
    series: str | None
    source: str | None
    last_confirmed: str | None


class ResultOut(BaseModel):
    signal: str
    value: str
    matches: list[MatchOut]


class LookupOut(BaseModel):
    results: list[ResultOut]


class ChangeOut(BaseModel):
    seq: int
    entry_id: int
    kind: str
    created_at: str
    category: str | None
    status: str


class ChangesOut(BaseModel):
    changes: list[ChangeOut]
    next_since: int | None = Field(description="pass as `since` for the next page; null when done")


class _Snapshot:
    """The matcher over the store, reloaded when the store's change sequence moves."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = threading.Lock()
        self.matcher: Matcher | None = None
        self.seq = -1
        self.checked = 0.0

    def current(self) -> Matcher:
        now = time.monotonic()
        if self.matcher is not None and now - self.checked < REFRESH_S:
            return self.matcher
        with self.lock:
            if self.matcher is None or now - self.checked >= REFRESH_S:
                with self.store.session() as session:
                    seq = int(session.scalar(select(func.max(Change.seq))) or 0)
                if self.matcher is None or seq != self.seq:
                    self.matcher = Matcher.from_store(self.store)
                    self.seq = seq
                self.checked = now
        assert self.matcher is not None
        return self.matcher


class _Limiter:
    """Per-key token buckets: `rate` requests a second, bursts up to `rate`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.buckets: dict[int, tuple[float, float]] = {}

    def wait(self, key_id: int, rate: int) -> float:
        """0 when the request may go now, else the seconds until it may."""
        if rate <= 0:
            return 0.0
        now = time.monotonic()
        with self.lock:
            tokens, last = self.buckets.get(key_id, (float(rate), now))
            tokens = min(float(rate), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self.buckets[key_id] = (tokens - 1.0, now)
                return 0.0
            self.buckets[key_id] = (tokens, now)
            return (1.0 - tokens) / rate


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_app(db: str) -> FastAPI:
    store = Store(db)
    snapshot = _Snapshot(store)
    limiter = _Limiter()
    app = FastAPI(
        title="vigil matching API",
        version="1",
        docs_url="/api/v1/docs",
        openapi_url="/api/v1/openapi.json",
        redoc_url=None,
    )

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Any) -> Any:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return JSONResponse({"detail": f"request body over {MAX_BODY} bytes"}, status_code=413)
        return await call_next(request)

    def caller(scope: str) -> Any:
        def check(request: Request) -> ApiKey:
            auth = request.headers.get("authorization", "")
            if not auth.lower().startswith("bearer "):
                raise HTTPException(401, "an API key is needed: Authorization: Bearer <key>")
            with store.session() as session:
                row = session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash(auth[7:].strip())))
            if row is None or row.revoked_at is not None:
                raise HTTPException(401, "unknown or revoked API key")
            if scope not in row.scopes.split(","):
                raise HTTPException(403, f"this key has no {scope!r} scope")
            wait = limiter.wait(row.id, row.rate_limit)
            if wait > 0:
                raise HTTPException(
                    429,
                    f"rate limit of {row.rate_limit} requests/s exceeded",
                    headers={"Retry-After": str(max(1, math.ceil(wait)))},
                )
            return row

        return check

    @app.get("/api/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/ready")
    def ready() -> JSONResponse:
        try:
            snapshot.current()
        except Exception as exc:  # the store does not answer: not ready, with the reason
            return JSONResponse({"status": "not ready", "reason": str(exc)}, status_code=503)
        return JSONResponse({"status": "ready", "store_seq": snapshot.seq})

    may_look_up = Depends(caller("lookup"))
    may_follow = Depends(caller("changes"))

    @app.post("/api/v1/lookup", response_model=LookupOut)
    def lookup(body: LookupIn, _key: ApiKey = may_look_up) -> dict[str, Any]:
        parsed: list[tuple[str, bytes]] = []
        for i, h in enumerate(body.hashes):
            name = h.signal.strip().lower()
            if name not in LOOKUP_SIGNALS:
                raise HTTPException(
                    422, f"hashes[{i}]: unknown signal {h.signal!r} (known: {', '.join(LOOKUP_SIGNALS)})"
                )
            try:
                parsed.append((name, signals.get(name).parse(h.value.lower())))
            except ValueError as exc:
                raise HTTPException(422, f"hashes[{i}]: {exc}") from None
        matcher = snapshot.current()
        found: list[list[tuple[int, int]]] = [[] for _ in parsed]
        pdq_rows = [i for i, (name, _) in enumerate(parsed) if name == "pdq"]
        index = matcher.perceptual.get("pdq")
        if pdq_rows and index is not None and not index.is_empty():
            queries = np.frombuffer(b"".join(parsed[i][1] for i in pdq_rows), np.uint8).reshape(-1, 32)
            hits = index.search(queries, matcher.thresholds["pdq"], min_quality=matcher.min_quality["pdq"])
            for i, row_hits in zip(pdq_rows, hits, strict=True):
                found[i] = [(eid, d) for eid, d in row_hits if eid in matcher.entries]
        for i, (name, value) in enumerate(parsed):
            if name != "pdq":
                table = matcher.exact.get(name)
                found[i] = [(eid, 0) for eid in (table.get(value) if table else []) if eid in matcher.entries]
        confirmed = _confirmed(store, {eid for row in found for eid, _ in row})
        results = []
        for (name, value), row in zip(parsed, found, strict=True):
            matches = []
            for eid, dist in row:
                e = matcher.entries[eid]
                matches.append(
                    {
                        "entry_id": eid,
                        "distance": dist,
                        "category": e.category,
                        "series": e.series,
                        "source": e.source,
                        "last_confirmed": confirmed.get(eid),
                    }
                )
            results.append({"signal": name, "value": value.hex(), "matches": matches})
        return {"results": results}

    @app.get("/api/v1/changes", response_model=ChangesOut)
    def changes(
        since: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
        _key: ApiKey = may_follow,
    ) -> dict[str, Any]:
        with store.session() as session:
            rows = session.execute(
                select(
                    Change.seq, Change.entry_id, Change.kind, Change.created_at, Entry.category, Entry.status
                )
                .join(Entry, Entry.id == Change.entry_id)
                .where(Change.seq > since)
                .order_by(Change.seq)
                .limit(limit + 1)
            ).all()
        page = rows[:limit]
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

    from vigil.server import web

    web.mount(app, store)
    return app


def _confirmed(store: Store, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    with store.session() as session:
        rows = session.execute(select(Entry.id, Entry.updated_at).where(Entry.id.in_(sorted(ids))))
        return {int(i): t.isoformat() for i, t in rows}


def app_from_env() -> FastAPI:
    """The app for uvicorn's factory mode (`vigil serve` sets VIGIL_DB for its workers)."""
    from vigil.config import Settings

    return create_app(os.environ.get("VIGIL_DB") or Settings().db)
