"""The matching API for platforms (`/api/v1`, part of `vigil serve`; OpenAPI docs at /api/v1/docs).

- ``POST /api/v1/lookup`` — up to 10,000 hashes (md5, sha1, sha256 exactly; pdq within the PDQ radius,
  through the memory-mapped index) → matches in request order.
- ``POST /api/v1/lookup/file`` — one image or video (multipart field ``file``, up to
  ``VIGIL_API_MAX_UPLOAD`` bytes), hashed in memory — nothing of it is stored — and looked up like ``lookup``
  (PDQ with rotations and flips, vPDQ for videos).
- ``POST /api/v1/submit`` — a platform reports a match or a new suspected hash; it waits in the review queue
  (``submission`` rows) and becomes known only through a reviewer's grade.
- ``GET /api/v1/changes?since=SEQ&limit=N`` — the store's change feed, paginated (for federation).
- ``GET /api/v1/health`` (the process answers) and ``GET /api/v1/ready`` (the store answers, the
  snapshot is loaded and so are the entries' confirmation times: until then every lookup would ask the
  store for them).

Callers send an API key as a bearer token (`vigil apikey create`); only its SHA-256 is stored. Each key
has scopes and a rate limit in requests per second (0 = unlimited), answered with 429 and Retry-After; the
buckets live in the deployment's data directory, so uvicorn's workers share them. Every call is appended to
the audit chain (key, action, counts — not the results), batched every half second and flushed on shutdown.
Bad input is a 4xx with a reason: 401 no or unknown key, 403 scope, 413 body over the limit, 422 invalid
hex, wrong length, unknown signal or too many hashes. The snapshot of the store is reloaded when the
store's change sequence moves (checked at most every `REFRESH_S` seconds).
"""

from __future__ import annotations

import gc
import io
import logging
import math
import os
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import numpy as np
import orjson
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from vigil import signals
from vigil.config import Settings
from vigil.core.clock import as_utc
from vigil.hashing import FileHashes, hash_stream
from vigil.match.matcher import Matcher
from vigil.media import DecodeLimits
from vigil.server.body import MAX_HASHES, BodyError, parse_hashes, parse_lookup
from vigil.server.limits import BodyLimit, SharedLimiter
from vigil.server.upload import Upload, UploadError, read_upload
from vigil.store import Store, audit
from vigil.store.apikeys import find_key, key_hash
from vigil.store.models import Change, Entry, Submission

MAX_BODY = 4 << 20
REFRESH_S = 5.0
KEY_TTL_S = 1.0
INLINE_HASHES = 16
log = logging.getLogger(__name__)
CHANGE_COLUMNS = (Change.seq, Change.entry_id, Change.kind, Change.created_at, Entry.category, Entry.status)


class HashIn(BaseModel):
    signal: str = Field(description="md5, sha1, sha256 or pdq")
    value: str = Field(description="the hash in hex")


class LookupIn(BaseModel):
    hashes: list[HashIn] = Field(max_length=MAX_HASHES)


_COMPONENT = "#/components/schemas/{model}"
# The lookup body as the OpenAPI schema shows it (the endpoint parses it with vigil.server.body).
_LOOKUP_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    k: v
                    for k, v in LookupIn.model_json_schema(ref_template=_COMPONENT).items()
                    if k != "$defs"  # HashIn is in the components already (SubmitIn uses it)
                }
            }
        },
    }
}


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


class FileLookupOut(BaseModel):
    media_type: str
    size: int
    error: str | None = Field(description="why a signal could not be computed (e.g. a damaged image)")
    results: list[ResultOut]


class SubmitIn(BaseModel):
    kind: Literal["match", "suspected"] = Field(
        description="match: the platform found a known item; suspected: a new item it suspects"
    )
    hashes: list[HashIn] = Field(min_length=1, max_length=10)
    reporter_ref: str | None = Field(default=None, max_length=200, description="the platform's own reference")
    platform: str | None = Field(default=None, max_length=200)
    reported_at: datetime | None = Field(default=None, description="when the platform saw it (ISO 8601)")
    location: str | None = Field(default=None, max_length=2000, description="URL or path where it was seen")
    media_type: str | None = Field(default=None, max_length=100)
    notes: str | None = Field(default=None, max_length=4000)


class SubmitOut(BaseModel):
    id: int
    status: str
    matched_entry_id: int | None


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
    """The matcher over the store. When the store's change sequence moves (checked at most every
    `REFRESH_S` s), a new matcher is built in the background while the old one keeps answering, then
    swapped in: a reload never stalls lookups (at 1 M entries it takes seconds)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = threading.Lock()
        self.matcher: Matcher | None = None
        self.seq = -1
        self.checked = 0.0
        self.reloading = False
        self._confirmed: dict[int, str] = {}  # entry id -> updated_at, valid for this snapshot
        self._times: tuple[np.ndarray, np.ndarray] | None = None  # all active entries' ids and times
        self._generation = 0
        self._first = threading.Lock()
        self.times_read = threading.Event()  # the first snapshot's entry times are in (or failed)

    def _store_seq(self) -> int:
        with self.store.session() as session:
            return int(session.scalar(select(func.max(Change.seq))) or 0)

    def _load(self, seq: int) -> None:
        matcher = Matcher.from_store(self.store)
        with self.lock:
            self.matcher, self.seq, self._confirmed, self._times = matcher, seq, {}, None
            self._generation += 1
            generation = self._generation
        threading.Thread(target=self._load_times, args=(generation,), name="vigil-times", daemon=True).start()

    def _reload(self, seq: int) -> None:
        try:
            self._load(seq)
        except Exception:  # the old snapshot keeps answering; the next check tries again
            log.exception("reloading the store snapshot failed")
        finally:
            self.reloading = False

    def current(self) -> Matcher:
        if self.matcher is None:  # the first load is waited for (`/ready` says when it is done)
            with self._first:
                if self.matcher is None:
                    self._load(self._store_seq())
                    self.checked = time.monotonic()
            assert self.matcher is not None
            return self.matcher
        now = time.monotonic()
        if now - self.checked >= REFRESH_S and not self.reloading:
            with self.lock:
                due = now - self.checked >= REFRESH_S and not self.reloading
                if due:
                    self.checked = now
                    self.reloading = True
            if due:
                seq = self._store_seq()
                if seq != self.seq:
                    threading.Thread(
                        target=self._reload, args=(seq,), name="vigil-snapshot", daemon=True
                    ).start()
                else:
                    self.reloading = False
        return self.matcher

    def check_due(self) -> bool:
        """True when `current()` would ask the store (callers on the event loop do that in a thread)."""
        return self.matcher is None or time.monotonic() - self.checked >= REFRESH_S

    def confirmed(self, ids: set[int]) -> dict[int, str]:
        """When each entry was last graded or confirmed (entry.updated_at). An entry's time changes only
        with a store change, which reloads the snapshot: the times are read for all entries once per
        snapshot, in the background; until they are in, the ones asked for are read from the store."""
        times = self._times
        if times is not None:
            wanted = np.fromiter(ids, np.int64, len(ids))
            if not len(wanted) or not len(times[0]):
                return {}
            rows = np.minimum(np.searchsorted(times[0], wanted), len(times[0]) - 1)
            hit = times[0][rows] == wanted
            return {
                eid: datetime.fromtimestamp(ts, UTC).isoformat()
                for eid, ts in zip(wanted[hit].tolist(), times[1][rows[hit]].tolist(), strict=True)
            }
        known = self._confirmed
        missing = sorted(i for i in ids if i not in known)
        if missing:
            with self.store.session() as session:
                for chunk in range(0, len(missing), 5000):
                    rows_ = session.execute(
                        select(Entry.id, Entry.updated_at).where(Entry.id.in_(missing[chunk : chunk + 5000]))
                    )
                    known.update((int(i), as_utc(t).isoformat()) for i, t in rows_)
        return {i: known[i] for i in ids if i in known}

    def _load_times(self, generation: int) -> None:
        times: tuple[np.ndarray, np.ndarray] | None = None
        try:
            with self.store.session() as session:
                times = _entry_times(session)
        except Exception:  # the per-request reads go on
            log.exception("reading entry times failed")
        with self.lock:
            if times is not None and generation == self._generation:
                self._times = times
        if not self.times_read.is_set():  # the first snapshot is complete
            _freeze_startup_objects()
            self.times_read.set()


def _freeze_startup_objects() -> None:
    """Once the first snapshot is in: collect, then move every object alive so far (modules, the app,
    the snapshot) out of the cyclic collector's reach (`gc.freeze`). Otherwise each full collection walks
    them all while the event loop waits, a stall of tens of milliseconds every so often under load."""
    gc.collect()
    gc.freeze()


_SQLITE_STAMP = 26  # how SQLAlchemy stores a DateTime in SQLite: "YYYY-MM-DD HH:MM:SS.ffffff" (UTC)


def _entry_times(session: Session) -> tuple[np.ndarray, np.ndarray]:
    """Every active entry's id (sorted) and updated_at as seconds since the epoch. On SQLite the stored
    text is parsed by numpy (a Python datetime a row took 9 s at 1 M entries, 2.6 s this way, all the while
    holding the GIL the event loop needs); anything else goes through SQLAlchemy's types."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        fast = _sqlite_entry_times(conn)
        if fast is not None:
            return fast
    ids: list[int] = []
    stamps: list[float] = []
    query = select(Entry.id, Entry.updated_at).where(Entry.status == "active").order_by(Entry.id)
    for eid, at in session.execute(query.execution_options(yield_per=50_000)):
        ids.append(eid)
        stamps.append(as_utc(at).timestamp())
    return np.asarray(ids, np.int64), np.asarray(stamps, np.float64)


def _sqlite_entry_times(conn: Connection) -> tuple[np.ndarray, np.ndarray] | None:
    """`_entry_times` from SQLite's stored text, 100,000 rows at a time; None if a value is not in the
    format SQLAlchemy writes."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cur = dbapi.cursor()
    id_parts, micro_parts = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    try:
        cur.execute("SELECT id, updated_at FROM entry WHERE status = 'active' ORDER BY id")
        while rows := cur.fetchmany(100_000):
            stored = [r[1] for r in rows]
            if not all(isinstance(t, str) for t in stored):
                return None
            text = np.array(stored)  # as wide as the longest value: a longer one fails the check below
            if not bool(np.all(np.char.str_len(text) == _SQLITE_STAMP)):
                return None
            id_parts.append(np.fromiter((r[0] for r in rows), np.int64, len(rows)))
            micro_parts.append(text.astype("datetime64[us]").astype(np.int64))
    finally:
        cur.close()
    return np.concatenate(id_parts), np.concatenate(micro_parts) / 1e6


@dataclass(frozen=True, slots=True)
class Caller:
    id: int
    name: str
    scopes: frozenset[str]
    rate_limit: int


class _Keys:
    """API keys by their SHA-256, each read from the store at most every `KEY_TTL_S` seconds (a revoked
    key is refused within that time; the store is not asked on every request)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.cache: dict[str, tuple[Caller | None, float]] = {}

    def get(self, digest: str) -> Caller | None:
        now = time.monotonic()
        hit = self.cache.get(digest)
        if hit is not None and now - hit[1] < KEY_TTL_S:
            return hit[0]
        with self.store.session() as session:
            row = find_key(session, digest)
            caller = (
                Caller(row.id, row.name, frozenset(row.scopes.split(",")), row.rate_limit)
                if row is not None
                else None
            )
        if len(self.cache) > 10_000:  # unknown keys sent at random must not grow it without end
            self.cache.clear()
        self.cache[digest] = (caller, now)
        return caller


def create_app(db: str) -> FastAPI:

    store = Store(db)
    settings = store.settings
    snapshot = _Snapshot(store)
    limiter = SharedLimiter(store.data_root / "ratelimit")
    audit_log = audit.AuditBuffer(store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        audit_log.close()  # graceful shutdown: the calls served so far are in the audit chain
        limiter.close()

    app = FastAPI(
        title="vigil matching API",
        version="1",
        docs_url="/api/v1/docs",
        openapi_url="/api/v1/openapi.json",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimit, default=MAX_BODY, per_path={"/api/v1/lookup/file": settings.api_max_upload})

    keys = _Keys(store)

    def caller(scope: str) -> Any:
        async def check(request: Request) -> Caller:
            # async: a cached key costs a dict lookup, not a hop to the thread pool on every request
            auth = request.headers.get("authorization", "")
            if not auth.lower().startswith("bearer "):
                raise HTTPException(401, "an API key is needed: Authorization: Bearer <key>")
            row = keys.get(key_hash(auth[7:].strip()))
            if row is None:
                raise HTTPException(401, "unknown or revoked API key")
            if scope not in row.scopes:
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
        if not snapshot.times_read.wait(timeout=1.0):
            # Until then every lookup would ask the store when its matches were last confirmed.
            return JSONResponse(
                {"status": "not ready", "reason": "reading when each entry was last confirmed"},
                status_code=503,
            )
        return JSONResponse({"status": "ready", "store_seq": snapshot.seq})

    may_look_up = Depends(caller("lookup"))
    may_follow = Depends(caller("changes"))
    may_submit = Depends(caller("submit"))

    def audit_call(key: Caller, action: str, details: dict[str, Any]) -> None:
        audit_log.add(audit.Event(f"apikey:{key.name}", action, None, details))

    Found = list[list[tuple[int, int]]]
    Described = dict[int, tuple[str | None, str | None, str | None]]

    def search(parsed: list[tuple[str, bytes]]) -> tuple[Found, Described]:
        """Entry ids and distances for each (signal, value), in order, and what each matched entry is
        (active entries only: retracted ones never match)."""
        matcher = snapshot.current()
        raw: Found = [[] for _ in parsed]
        pdq_rows = [i for i, (name, _) in enumerate(parsed) if name == "pdq"]
        index = matcher.perceptual.get("pdq")
        if pdq_rows and index is not None and not index.is_empty():
            queries = np.frombuffer(b"".join(parsed[i][1] for i in pdq_rows), np.uint8).reshape(-1, 32)
            hits = index.search(queries, matcher.thresholds["pdq"], min_quality=matcher.min_quality["pdq"])
            for i, row_hits in zip(pdq_rows, hits, strict=True):
                raw[i] = list(row_hits)
        for name, table in matcher.exact.items():
            rows = [i for i, (signal, _) in enumerate(parsed) if signal == name]
            if rows:
                for i, ids in zip(rows, table.get_many([parsed[i][1] for i in rows]), strict=True):
                    raw[i] = [(eid, 0) for eid in ids]
        described = matcher.entries.describe(eid for row in raw for eid, _ in row)
        return [[(eid, d) for eid, d in row if eid in described] for row in raw], described

    def results(parsed: list[tuple[str, bytes]], found: Found, described: Described) -> list[dict[str, Any]]:
        confirmed = snapshot.confirmed(set(described))
        out = []
        for (name, value), row in zip(parsed, found, strict=True):
            matches = []
            for eid, dist in row:
                category, series, source = described[eid]
                matches.append(
                    {
                        "entry_id": eid,
                        "distance": dist,
                        "category": category,
                        "series": series,
                        "source": source,
                        "last_confirmed": confirmed.get(eid),
                    }
                )
            out.append({"signal": name, "value": value.hex(), "matches": matches})
        return out

    @app.post("/api/v1/lookup", response_model=LookupOut, openapi_extra=_LOOKUP_BODY)
    async def lookup(request: Request, key: Caller = may_look_up) -> Response:
        """Look up to 10,000 hashes (body: `LookupIn`); the matches come back in request order."""
        try:  # decoded and checked by vigil.server.body, not a pydantic object per hash
            parsed = parse_lookup(await request.body())
        except BodyError as exc:
            raise HTTPException(422, str(exc)) from None
        if snapshot.check_due():
            await run_in_threadpool(snapshot.current)
        # A few hashes are answered on the event loop (well under a millisecond); big batches in the
        # thread pool, so they never hold up other callers.
        if len(parsed) <= INLINE_HASHES:
            found, described = search(parsed)
            body_out = results(parsed, found, described)
        else:
            found, described = await run_in_threadpool(search, parsed)
            body_out = await run_in_threadpool(results, parsed, found, described)
        audit_call(key, "api.lookup", {"hashes": len(parsed), "matched": sum(1 for row in found if row)})
        # Built to LookupOut's shape here; skipping FastAPI's re-validation of up to 10,000 results.
        return Response(orjson.dumps({"results": body_out}), media_type="application/json")

    @app.post(
        "/api/v1/lookup/file",
        response_model=FileLookupOut,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {"file": {"type": "string", "format": "binary"}},
                        }
                    }
                },
            }
        },
    )
    async def lookup_file(request: Request, key: Caller = may_look_up) -> dict[str, Any]:
        """Hash one uploaded image or video in memory (nothing of it is stored) and look its hashes up."""
        try:
            upload = await read_upload(
                request.headers.get("content-type"),
                request.stream(),
                field="file",
                max_bytes=settings.api_max_upload,
            )
        except UploadError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        hashed = await run_in_threadpool(_hash_upload, upload, settings)
        matcher = await run_in_threadpool(snapshot.current)
        matches = await run_in_threadpool(matcher.match, hashed)  # exact, PDQ with rotations/flips, vPDQ
        confirmed = await run_in_threadpool(snapshot.confirmed, {m.entry_id for m in matches})
        out = [
            {
                "signal": name,
                "value": value,
                "matches": [
                    {
                        "entry_id": m.entry_id,
                        "distance": m.distance,
                        "category": m.category,
                        "series": m.series,
                        "source": m.source,
                        "last_confirmed": confirmed.get(m.entry_id),
                    }
                    for m in matches
                    if m.signal == name
                ],
            }
            for name, value in _file_signals(hashed)
        ]
        audit_call(
            key,
            "api.lookup_file",
            {
                "bytes": hashed.size,
                "media_type": hashed.media_type,
                "matched": len({m.entry_id for m in matches}),
            },
        )
        return {"media_type": hashed.media_type, "size": hashed.size, "error": hashed.error, "results": out}

    @app.post("/api/v1/submit", response_model=SubmitOut, status_code=202)
    def submit(body: SubmitIn, key: Caller = may_submit) -> dict[str, Any]:
        """Report a match or a new suspected item; it waits for a reviewer (nothing becomes known here)."""
        try:
            parsed = parse_hashes([h.model_dump() for h in body.hashes])
        except BodyError as exc:
            raise HTTPException(422, str(exc)) from None
        if len({name for name, _ in parsed}) != len(parsed):
            raise HTTPException(422, "hashes: one value per signal")
        found, _ = search(parsed)
        matched = next((eid for row in found for eid, _ in row), None)
        with store.transaction() as session:
            audit.append(
                session,
                audit.Event(
                    f"apikey:{key.name}",
                    "api.submit",
                    None,
                    {
                        "kind": body.kind,
                        "signals": sorted(n for n, _ in parsed),
                        "matched": matched is not None,
                    },
                ),
            )
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

    @app.get("/api/v1/changes", response_model=ChangesOut)
    def changes(
        since: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
        key: Caller = may_follow,
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
        audit_call(key, "api.changes", {"since": since, "returned": len(page)})
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


def _hash_upload(upload: Upload, settings: Settings) -> FileHashes:
    data = upload.data
    limits = DecodeLimits(settings.max_image_pixels, settings.decode_size)
    return hash_stream(io.BytesIO(data), upload.filename or "upload", limits, reopen=lambda: io.BytesIO(data))


def _file_signals(hashed: FileHashes) -> list[tuple[str, str]]:
    """Every signal computed for an uploaded file, as (name, hex)."""
    fields = hashed.as_fields()
    return [(s.name, fields[s.name]) for s in signals.all_signals() if fields.get(s.name)]


def app_from_env() -> FastAPI:
    """The app for uvicorn's factory mode (`vigil serve` sets VIGIL_DB for its workers)."""
    from vigil.config import Settings

    return create_app(os.environ.get("VIGIL_DB") or Settings().db)
