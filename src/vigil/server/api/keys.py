"""API keys: who is calling (`Caller`), read from the store through a short-lived cache.

Callers send a key as a bearer token (`vigil apikey create`); only its SHA-256 is stored, and only the
SHA-256 is looked up. A key is read again at most every `KEY_TTL_S` seconds, so a revoked key is refused
within that time without asking the store on every request. The check itself (401, 403, 429) is the
`caller(scope)` dependency in vigil.server.api.deps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from vigil.store import Store
from vigil.store.apikeys import find_key

KEY_TTL_S = 1.0
MAX_CACHED = 10_000  # unknown keys sent at random must not grow the cache without end


@dataclass(frozen=True, slots=True)
class Caller:
    id: int
    name: str
    scopes: frozenset[str]
    rate_limit: int


class Keys:
    """API keys by their SHA-256, each read from the store at most every `KEY_TTL_S` seconds."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.cache: dict[str, tuple[Caller | None, float]] = {}

    def get(self, digest: str) -> Caller | None:
        """The key whose SHA-256 (hex) is `digest`, or None if it is unknown or revoked."""
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
        if len(self.cache) > MAX_CACHED:
            self.cache.clear()
        self.cache[digest] = (caller, now)
        return caller
