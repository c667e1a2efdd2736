"""API keys for the matching API: only a key's SHA-256 is stored; the key itself is shown once."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.clock import utcnow
from vigil.core.errors import VigilError
from vigil.store.models import ApiKey

SCOPES = ("lookup", "submit", "changes")
PREFIX = "vgl_"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, name: str, scopes: list[str], rate_limit: int) -> str:
    """Add a key named `name` with `scopes` (a subset of SCOPES) and a limit in requests/s (0 = none);
    returns the key, which is not kept."""
    unknown = [s for s in scopes if s not in SCOPES]
    if not scopes or unknown:
        raise VigilError(f"scopes must be among {', '.join(SCOPES)}")
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise VigilError(f"an API key named {name!r} exists already")
    key = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(name=name, key_hash=key_hash(key), scopes=",".join(scopes), rate_limit=rate_limit))
    return key


def revoke_key(session: Session, name: str) -> None:
    """Revoke the key named `name`: its calls are refused from then on."""
    row = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if row is None:
        raise VigilError(f"no API key named {name!r}")
    row.revoked_at = row.revoked_at or utcnow()


def find_key(session: Session, digest: str) -> ApiKey | None:
    """The key whose SHA-256 is `digest`, unless it was revoked."""
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    return row if row is not None and row.revoked_at is None else None
