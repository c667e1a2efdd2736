"""The store's tables (DESIGN.md §3). Every schema change is an Alembic migration in migrations/versions."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only gives INTEGER PRIMARY KEY columns automatic row ids; PostgreSQL gets 64-bit ids.
Id = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Source(Base):
    """Who contributed hashes: an agency, a hotline, a platform, a reviewer team or a known-good list."""

    __tablename__ = "source"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32), default="agency")
    trust: Mapped[int] = mapped_column(Integer, default=50)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PartnerKey(Base):
    """A partner agency's Ed25519 public key, trusted to sign delta bundles for its source, and how far
    its changes have been applied here (bundles must follow on from `last_seq`, in order)."""

    __tablename__ = "partner_key"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    public_key: Mapped[str] = mapped_column(Text)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_signature: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiKey(Base):
    """A platform's key to the matching API: only its SHA-256 is stored (the key is shown once)."""

    __tablename__ = "api_key"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(200))
    rate_limit: Mapped[int] = mapped_column(Integer, default=100)  # requests per second; 0 = unlimited
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Series(Base):
    __tablename__ = "series"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    notes: Mapped[str | None] = mapped_column(Text)


class Entry(Base):
    """One known item. `category` is the effective grading, derived from its assessments by policy."""

    __tablename__ = "entry"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    category: Mapped[str | None] = mapped_column(String(2), index=True)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id"))
    victim_identified: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")
    disputed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The source whose assessment gives the effective category (derived, kept for fast reads).
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id"))
    media_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(BigInteger)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    notes: Mapped[str | None] = mapped_column(Text)


class Signal(Base):
    """One hash of an entry; a value belongs to exactly one entry."""

    __tablename__ = "signal"
    __table_args__ = (UniqueConstraint("type", "value", name="uq_signal_type_value"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    value: Mapped[bytes] = mapped_column(LargeBinary)
    quality: Mapped[int | None] = mapped_column(Integer)


class Assessment(Base):
    """One grading of an entry by a source (or one of its users). Never updated, never deleted."""

    __tablename__ = "assessment"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"), index=True)
    user_name: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(2))
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id"))
    victim_identified: Mapped[bool | None] = mapped_column(Boolean)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Change(Base):
    """The store's change sequence: every created, re-graded or retracted entry, in order (delta export)."""

    __tablename__ = "change"
    seq: Mapped[int] = mapped_column(Id, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Case(Base):
    __tablename__ = "case"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Scan(Base):
    __tablename__ = "scan"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    evidence: Mapped[list[str]] = mapped_column(JSON)
    out_dir: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    summary: Mapped[dict | None] = mapped_column(JSON)


class ScanItem(Base):
    __tablename__ = "scan_item"
    __table_args__ = (Index("ix_scan_item_scan_verdict", "scan_id", "verdict"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scan.id"))
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int | None] = mapped_column(BigInteger)
    media_type: Mapped[str | None] = mapped_column(String(100))
    hashes: Mapped[dict[str, str]] = mapped_column(JSON)
    quality: Mapped[dict[str, int] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(8))
    error: Mapped[str | None] = mapped_column(Text)
    verdict: Mapped[str] = mapped_column(String(16))
    matches: Mapped[list[dict] | None] = mapped_column(JSON)
