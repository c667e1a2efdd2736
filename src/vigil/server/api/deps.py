"""What the matching API's routes share, and the dependencies that reach it.

One `ApiState` per app (`app.state.api`): the settings, the store, the matcher snapshot, the API-key cache,
the rate limiter, the audit buffer and the semaphore that caps concurrent upload decodes. Routes get it with
`state_of(request)` (a dictionary lookup, no dependency to solve on the hot path) and their caller with one
of the `...Key` dependencies.

`caller(scope)` answers 401 for no or an unknown key, 403 for a key without the scope and 429 (with
Retry-After) past the key's rate limit. The buckets live in the deployment's data directory, so uvicorn's
workers share them. Every call is appended to the audit chain (key, action, counts — not the results),
batched every half second and flushed on shutdown.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from vigil.config import Settings
from vigil.server.api.keys import Caller, Keys
from vigil.server.api.snapshot import Snapshot
from vigil.server.limits import SharedLimiter
from vigil.store import Store, audit
from vigil.store.apikeys import key_hash


@dataclass
class ApiState:
    settings: Settings
    store: Store
    snapshot: Snapshot
    keys: Keys
    limiter: SharedLimiter
    audit_log: audit.AuditBuffer
    decodes: asyncio.Semaphore  # uploads being hashed at once (VIGIL_API_MAX_DECODES)

    @classmethod
    def open(cls, store: Store) -> ApiState:
        snapshot = Snapshot(store)
        limiter = SharedLimiter(store.data_root / "ratelimit")
        audit_log = audit.AuditBuffer(store)
        decodes = asyncio.Semaphore(store.settings.api_max_decodes)
        return cls(store.settings, store, snapshot, Keys(store), limiter, audit_log, decodes)

    def audit_call(self, key: Caller, action: str, details: dict[str, Any]) -> None:
        """One API call in the audit chain (written with the next batch)."""
        self.audit_log.add(audit.Event(f"apikey:{key.name}", action, None, details))

    def close(self) -> None:
        """Graceful shutdown: the calls served so far go into the audit chain."""
        self.audit_log.close()
        self.limiter.close()


def state_of(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


def caller(scope: str) -> Callable[[Request], Awaitable[Caller]]:
    """A dependency: the calling key, which must have `scope` and be within its rate limit."""

    async def check(request: Request) -> Caller:
        # async: a cached key costs a dict lookup, not a hop to the thread pool on every request
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            raise HTTPException(401, "an API key is needed: Authorization: Bearer <key>")
        state = state_of(request)
        row = state.keys.get(key_hash(auth[7:].strip()))
        if row is None:
            raise HTTPException(401, "unknown or revoked API key")
        if scope not in row.scopes:
            raise HTTPException(403, f"this key has no {scope!r} scope")
        wait = state.limiter.wait(row.id, row.rate_limit)
        if wait > 0:
            raise HTTPException(
                429,
                f"rate limit of {row.rate_limit} requests/s exceeded",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        return row

    return check


LookupKey = Annotated[Caller, Depends(caller("lookup"))]
SubmitKey = Annotated[Caller, Depends(caller("submit"))]
ChangesKey = Annotated[Caller, Depends(caller("changes"))]
