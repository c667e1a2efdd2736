"""What the review modules share: errors, statuses, the review source, who may do what, `Grade` (what a
reviewer says about an item) and `Scope` (which queue: one scan, a case's scans, the platform submissions,
or everything)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.orm import Session

from vigil.core.categories import parse_category
from vigil.core.errors import VigilError
from vigil.store.entries import get_or_create_source
from vigil.store.models import User

# Review item statuses.
OPEN = "open"  # waiting for votes
ARBITRATION = "arbitration"  # reviewers disagreed on the category; an admin decides
TRUSTED = "trusted"  # enough agreeing votes, or an admin's decision
STATUSES = (OPEN, ARBITRATION, TRUSTED)

# Scan verdicts that put an item in the review queue, in queue order (similar: near a known entry).
REVIEWABLE = ("similar", "unknown")

# Every grade is an assessment from this source (kind "reviewer"); the user is on the assessment. It is
# trusted above imported sources (default 50): the unit's own trained reviewers have the last word.
REVIEW_SOURCE = "review"
REVIEW_SOURCE_KIND = "reviewer"
REVIEW_TRUST = 80

MAX_SERIES = 200  # characters of a series name in a grade
MAX_NOTES = 10_000  # characters of a grade's notes

GRADER_ROLES = ("reviewer", "admin")
ARBITER_ROLES = ("admin",)


class ReviewError(VigilError):
    """A review action was refused (the reason says why: unknown item, already voted, not open, ...)."""


class NotAllowed(ReviewError):
    """The user's role may not do this (e.g. an analyst grading, a reviewer arbitrating)."""


@dataclass(frozen=True, slots=True)
class Grade:
    """What a reviewer says about an item. `category` is a DESIGN.md §3 code (case-insensitive);
    the constructor validates and normalises (raises ReviewError)."""

    category: str
    series: str | None = None
    victim_identified: bool = False
    notes: str | None = None

    def __post_init__(self) -> None:
        try:
            code = parse_category(str(self.category))
        except ValueError as exc:
            raise ReviewError(str(exc)) from None
        object.__setattr__(self, "category", code)
        series = (self.series or "").strip() or None
        if series is not None and len(series) > MAX_SERIES:
            raise ReviewError(f"a series name has at most {MAX_SERIES} characters")
        object.__setattr__(self, "series", series)
        notes = (self.notes or "").strip() or None
        if notes is not None and len(notes) > MAX_NOTES:
            raise ReviewError(f"notes have at most {MAX_NOTES} characters")
        object.__setattr__(self, "notes", notes)
        object.__setattr__(self, "victim_identified", bool(self.victim_identified))

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "series": self.series,
            "victim_identified": self.victim_identified,
            "notes": self.notes is not None,  # the audit says whether there were notes, not what
        }


def review_source_id(session: Session) -> int:
    return get_or_create_source(session, REVIEW_SOURCE, kind=REVIEW_SOURCE_KIND, trust=REVIEW_TRUST)


def check_role(user: User, roles: tuple[str, ...], action: str) -> None:
    if user.disabled_at is not None:
        raise NotAllowed(f"user {user.name} is disabled")
    if user.role not in roles:
        raise NotAllowed(f"{action} needs the role {' or '.join(roles)}; {user.name} is {user.role}")


def actor(user: User) -> str:
    """The audit actor for a review-app user."""
    return f"user:{user.name}"


@dataclass(frozen=True, slots=True)
class Scope:
    """Which review items a queue shows: ``Scope.scan(7)``, ``Scope.case(2)``, ``Scope.submissions()``
    or ``Scope.everything()``. Near-duplicate groups are formed within a scan (and within the
    submissions); a case or everything joins groups that share an item."""

    kind: Literal["scan", "case", "submissions", "all"]
    id: int | None = None

    @classmethod
    def scan(cls, scan_id: int) -> Scope:
        return cls("scan", scan_id)

    @classmethod
    def case(cls, case_id: int) -> Scope:
        return cls("case", case_id)

    @classmethod
    def submissions(cls) -> Scope:
        return cls("submissions")

    @classmethod
    def everything(cls) -> Scope:
        return cls("all")

    def __str__(self) -> str:
        return self.kind if self.id is None else f"{self.kind}:{self.id}"
