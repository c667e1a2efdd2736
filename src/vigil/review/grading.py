"""Grading: reviewers' votes, consensus, arbitration, and what each grade writes to the store.

    from vigil.review import Grade, Scope, arbitrate, cast_vote, cast_votes, grade_group, sync_index

    grade = Grade("B", series="S-12", victim_identified=False, notes="...")
    with store.transaction() as session:      # the caller owns the transaction
        s = store.settings                     # the review rules (votes for consensus, ...)
        outcome = cast_vote(session, item_id, user, grade, s)                   # one item
        outcomes = grade_group(session, Scope.scan(7), group_id, user, grade, s)  # a near-duplicate group
        outcomes = cast_votes(session, [id1, id2], user, grade, s)              # any items, in bulk
        outcome = arbitrate(session, item_id, admin, grade, s)                 # an admin settles a dispute
    sync_index(store)                          # after the commit: the PDQ index follows new entries

Rules:

- Reviewers and admins vote (`users.ROLES`); only admins arbitrate. A user votes once per item (a second
  vote is refused; in bulk the item is skipped with the reason), and only on ``open`` items.
- Consensus: an item becomes ``trusted`` when `Settings.review_votes` distinct users have voted and all
  gave the same category. Any disagreement on the category sends it to ``arbitration`` (and marks its
  entry ``disputed``; the store's policy recomputes that flag when the entry is next graded, so the
  arbitration queue is the place to look); an admin's decision there makes it ``trusted``. Nothing is
  overwritten: every vote stays in ``review_vote`` and as an assessment.
- Every vote (and arbitration) is an ``assessment`` from the ``review`` source (kind reviewer) carrying the
  user's name, time and notes. The vote that completes a consensus, and an arbitration, are written
  ``trusted``; earlier votes are not. Exports leave untrusted gradings out by default
  (`vigil.store.queries.iter_export(include_untrusted=False)`).
- From the first vote the item's hashes are a known ``entry`` (created through `vigil.store.ingest`
  with its signals and a change row, so deltas and the PDQ index follow): the next scan reports the
  image as known, with the latest review grade as its category until the item is trusted.
- Pending platform submissions of an item are marked ``graded`` (and linked to the entry) when it
  becomes trusted.
- Every call appends to the audit chain (``review.grade`` per requested item, ``review.arbitrate``) first
  in the transaction; in bulk, items skipped are listed in one more ``review.grade_skipped`` event. A
  refused call raises `ReviewError` / `NotAllowed` and the caller's rollback drops it all.
- `Outcome.status` is the item's status after the call (``missing`` for an unknown id in bulk).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from vigil.config import Settings
from vigil.core.clock import utcnow
from vigil.core.errors import VigilError
from vigil.core.records import AsDict
from vigil.review.base import (
    ARBITER_ROLES,
    ARBITRATION,
    GRADER_ROLES,
    OPEN,
    TRUSTED,
    Grade,
    ReviewError,
    Scope,
    actor,
    check_role,
)
from vigil.review.queue import group_item_ids
from vigil.review.record import record_grade
from vigil.store import Store, audit
from vigil.store.models import Entry, ReviewItem, ReviewLink, ReviewVote, Submission, User

log = logging.getLogger(__name__)
VOTE = "vote"
ARBITRATE = "arbitration"


@dataclass(frozen=True, slots=True)
class Outcome(AsDict):
    """Where an item stands after a vote (or why it was skipped, in bulk)."""

    item_id: int
    status: str  # open, arbitration, trusted
    entry_id: int | None
    votes: int  # votes cast on the item so far
    needed: int  # agreeing votes that make it trusted
    skipped: str | None = None


def cast_vote(session: Session, item_id: int, user: User, grade: Grade, settings: Settings) -> Outcome:
    """One reviewer's vote on one item; raises ReviewError if it cannot be cast (see the module rules)."""
    outcome = cast_votes(session, [item_id], user, grade, settings, bulk=False)[0]
    if outcome.skipped:
        raise ReviewError(outcome.skipped)
    return outcome


def cast_votes(
    session: Session,
    item_ids: Iterable[int],
    user: User,
    grade: Grade,
    settings: Settings,
    *,
    bulk: bool = True,
) -> list[Outcome]:
    """The same vote on many items (a series graded in one go), in id order; items that cannot take the
    vote (already voted by this user, not open, unknown) come back with `skipped` set."""
    check_role(user, GRADER_ROLES, "grading")
    ids = sorted(set(item_ids))
    if not ids:
        return []
    details = grade.as_dict() | ({"bulk": len(ids)} if bulk else {})
    # The audit chain first: it takes the chain's lock (the write lock on SQLite), then the item rows.
    audit.append(
        session, [audit.Event(actor(user), "review.grade", f"review_item:{i}", details) for i in ids]
    )
    outcomes = []
    for item_id in ids:
        item = _locked_item(session, item_id)
        reason = _refusal(session, item, item_id, user)
        if item is None or reason is not None:
            outcomes.append(_skipped(session, item, item_id, settings, reason or "?"))
            continue
        outcomes.append(_vote(session, item, user, grade, settings))
    skipped = {o.item_id: o.skipped for o in outcomes if o.skipped}
    if skipped and bulk:
        audit.append(session, audit.Event(actor(user), "review.grade_skipped", None, {"items": skipped}))
    return outcomes


def grade_group(
    session: Session, scope: Scope, group_id: int, user: User, grade: Grade, settings: Settings
) -> list[Outcome]:
    """Vote on every open item of one near-duplicate group of a queue (`vigil.review.queue`)."""
    ids = group_item_ids(session, scope, group_id, settings=settings)
    if not ids:
        raise ReviewError(f"no open items in group {group_id} of {scope}")
    return cast_votes(session, ids, user, grade, settings)


def arbitrate(session: Session, item_id: int, admin: User, grade: Grade, settings: Settings) -> Outcome:
    """An admin's decision on an item in arbitration: it becomes trusted with this grade."""
    check_role(admin, ARBITER_ROLES, "arbitration")
    audit.append(
        session, audit.Event(actor(admin), "review.arbitrate", f"review_item:{item_id}", grade.as_dict())
    )
    item = _locked_item(session, item_id)
    if item is None:
        raise ReviewError(f"no review item {item_id}")
    if item.status != ARBITRATION:
        raise ReviewError(f"review item {item_id} is {item.status}, not in arbitration")
    now = utcnow()
    entry_id, assessment_id = record_grade(session, item, grade, admin.name, trusted=True, now=now)
    _add_vote(session, item, admin, grade, ARBITRATE, assessment_id, now)
    _trust(session, item, grade, entry_id, now)
    return Outcome(item.id, item.status, entry_id, _vote_count(session, item.id), settings.review_votes)


def sync_index(store: Store) -> None:
    """Bring the perceptual indexes up to the store after a commit (a failure is logged: the store
    stays the truth, and the next scan or `vigil index sync` catches up)."""
    from vigil.index import sync

    try:
        sync.sync(store)
    except (VigilError, OSError) as exc:
        log.warning("perceptual index not updated (%s); run `vigil index sync`", exc)


# ---- one vote ----------------------------------------------------------------------------------------


def _locked_item(session: Session, item_id: int) -> ReviewItem | None:
    """The item, locked against concurrent votes until the transaction ends (PostgreSQL row lock;
    SQLite holds its write lock already)."""
    return session.scalars(
        select(ReviewItem)
        .where(ReviewItem.id == item_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def _refusal(session: Session, item: ReviewItem | None, item_id: int, user: User) -> str | None:
    if item is None:
        return f"no review item {item_id}"
    if item.status != OPEN:
        return f"review item {item_id} is {item.status}, not open for votes"
    voted = session.scalar(
        select(ReviewVote.id).where(
            ReviewVote.item_id == item_id, ReviewVote.user_id == user.id, ReviewVote.kind == VOTE
        )
    )
    if voted is not None:
        return f"{user.name} has voted on review item {item_id} already"
    return None


def _skipped(
    session: Session, item: ReviewItem | None, item_id: int, settings: Settings, reason: str
) -> Outcome:
    if item is None:
        return Outcome(item_id, "missing", None, 0, settings.review_votes, reason)
    return Outcome(
        item_id, item.status, item.entry_id, _vote_count(session, item_id), settings.review_votes, reason
    )


def _vote_count(session: Session, item_id: int) -> int:
    return int(
        session.scalar(select(func.count()).where(ReviewVote.item_id == item_id, ReviewVote.kind == VOTE))
        or 0
    )


def _vote(session: Session, item: ReviewItem, user: User, grade: Grade, settings: Settings) -> Outcome:
    now = utcnow()
    earlier = session.scalars(
        select(ReviewVote.category).where(ReviewVote.item_id == item.id, ReviewVote.kind == VOTE)
    ).all()
    agree = all(c == grade.category for c in earlier)
    trusted = agree and len(earlier) + 1 >= settings.review_votes
    entry_id, assessment_id = record_grade(session, item, grade, user.name, trusted=trusted, now=now)
    _add_vote(session, item, user, grade, VOTE, assessment_id, now)
    item.entry_id = entry_id
    item.updated_at = now
    if not agree:
        item.status = ARBITRATION
        # The policy sees one source (review) and would not flag this: the dispute is the reviewers'.
        session.execute(update(Entry).where(Entry.id == entry_id).values(disputed=True, updated_at=now))
    elif trusted:
        _trust(session, item, grade, entry_id, now)
    session.flush()
    return Outcome(item.id, item.status, entry_id, len(earlier) + 1, settings.review_votes)


def _add_vote(
    session: Session, item: ReviewItem, user: User, grade: Grade, kind: str, assessment_id: int, now: datetime
) -> None:
    session.add(
        ReviewVote(
            item_id=item.id,
            user_id=user.id,
            user_name=user.name,
            kind=kind,
            category=grade.category,
            series=grade.series,
            victim_identified=grade.victim_identified,
            notes=grade.notes,
            assessment_id=assessment_id,
            created_at=now,
        )
    )


def _trust(session: Session, item: ReviewItem, grade: Grade, entry_id: int, now: datetime) -> None:
    item.status = TRUSTED
    item.category = grade.category
    item.entry_id = entry_id
    item.trusted_at = item.updated_at = now
    pending = select(ReviewLink.submission_id).where(
        ReviewLink.item_id == item.id, ReviewLink.submission_id.is_not(None)
    )
    session.execute(
        update(Submission)
        .where(Submission.id.in_(pending), Submission.status == "pending")
        .values(status="graded", entry_id=entry_id)
    )
    session.flush()
