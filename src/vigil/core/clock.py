"""Time, always in UTC: vigil stores and prints aware datetimes."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(at: datetime) -> datetime:
    """`at` with its time zone; naive values (SQLite gives those back) are UTC, as vigil writes them."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
