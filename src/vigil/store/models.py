"""The store's tables (DESIGN.md §3). Every schema change is an Alembic migration in migrations/versions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from vigil.core.clock import utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only gives INTEGER PRIMARY KEY columns automatic row ids; PostgreSQL gets 64-bit ids.
Id = BigInteger().with_variant(Integer(), "sqlite")


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
    # False for a reviewer's grade still waiting for consensus (vigil.review.grading): exports leave it out.
    trusted: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


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


class User(Base):
    """A person who logs in to the review app. Only an argon2 hash of the password is stored."""

    __tablename__ = "user"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # admin, reviewer, analyst
    password_hash: Mapped[str] = mapped_column(String(200))
    settings: Mapped[dict | None] = mapped_column(JSON)  # wellness: blur, greyscale, break_after, ...
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserSession(Base):
    """A logged-in browser: the cookie holds a random token, the store only its SHA-256."""

    __tablename__ = "user_session"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Audit(Base):
    """The append-only audit chain: `hash` = SHA-256(`prev_hash` + the row's canonical content).
    `vigil audit verify` recomputes it; `audit_head` holds the last row's id and hash."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))  # user:NAME, apikey:NAME, cli:OSUSER
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: where the audit chain ends (catches deletion of the newest rows)."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class Submission(Base):
    """A platform's report through the matching API (a match, or a new suspected hash), pending review.
    Nothing becomes known from a submission without a reviewer's grade."""

    __tablename__ = "submission"
    __table_args__ = (Index("ix_submission_status", "status"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_key.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # match, suspected
    hashes: Mapped[dict[str, str]] = mapped_column(JSON)  # signal name -> hex
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entry.id"))  # the matched entry, if any
    reporter_ref: Mapped[str | None] = mapped_column(String(200))
    platform: Mapped[str | None] = mapped_column(String(200))
    reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    location: Mapped[str | None] = mapped_column(Text)  # URL or path where the platform saw it
    media_type: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, graded, rejected


# ---- the review app (vigil.review) ------------------------------------------------------------------


class ReviewItem(Base):
    """One distinct content to grade, however many scans and submissions it turns up in (same `key`,
    e.g. ``sha256:<hex>``, means one item, graded once). `status`: open (waiting for votes), arbitration
    (reviewers disagreed; an admin decides) or trusted (consensus or an admin's decision)."""

    __tablename__ = "review_item"
    __table_args__ = (Index("ix_review_item_status", "status"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    hashes: Mapped[dict[str, str]] = mapped_column(JSON)  # signal name -> hex
    quality: Mapped[dict[str, int] | None] = mapped_column(JSON)
    pdq: Mapped[bytes | None] = mapped_column(LargeBinary)  # raw 32 bytes, for near-duplicate grouping
    pdq_quality: Mapped[int | None] = mapped_column(Integer)
    media_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(BigInteger)
    verdict: Mapped[str] = mapped_column(String(16))  # similar (near a known entry) or unknown
    status: Mapped[str] = mapped_column(String(16), default="open")
    category: Mapped[str | None] = mapped_column(String(2))  # the trusted category, once trusted
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entry.id"), index=True)
    # Where it was first seen: a scan item (its path locates the picture) and/or a platform submission.
    scan_item_id: Mapped[int | None] = mapped_column(ForeignKey("scan_item.id"))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    trusted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReviewLink(Base):
    """One sighting of a review item: a scan item of an attached scan, or a platform submission.
    `group_id` is the near-duplicate group within the scan (or within the submissions): the smallest
    review item id of its connected component."""

    __tablename__ = "review_link"
    __table_args__ = (
        Index("ix_review_link_scan_group", "scan_id", "group_id"),
        Index("ix_review_link_item_id", "item_id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_item.id"))
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("scan.id"))
    scan_item_id: Mapped[int | None] = mapped_column(ForeignKey("scan_item.id"), unique=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id"), unique=True)
    verdict: Mapped[str] = mapped_column(String(16))
    group_id: Mapped[int] = mapped_column(BigInteger)


class ReviewVote(Base):
    """One reviewer's grade of a review item (kind "vote"), or an admin's decision on a disputed one
    (kind "arbitration"). Never updated, never deleted; one of each kind per user and item."""

    __tablename__ = "review_vote"
    __table_args__ = (UniqueConstraint("item_id", "user_id", "kind", name="uq_review_vote_item_user_kind"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_item.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    user_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # vote, arbitration
    category: Mapped[str] = mapped_column(String(2))
    series: Mapped[str | None] = mapped_column(String(200))
    victim_identified: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessment.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Exposure(Base):
    """A reviewer's exposure on one (UTC) day: pictures revealed and seconds spent in the queue, and the
    counters' values when they last took a break (the next break prompt counts from there)."""

    __tablename__ = "exposure"
    __table_args__ = (UniqueConstraint("user_id", "day", name="uq_exposure_user_day"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    day: Mapped[date] = mapped_column(Date)
    reveals: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[int] = mapped_column(Integer, default=0)
    breaks: Mapped[int] = mapped_column(Integer, default=0)
    reveals_at_break: Mapped[int] = mapped_column(Integer, default=0)
    seconds_at_break: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
