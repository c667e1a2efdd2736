"""The web app's calls into the review domain (`vigil.review`): each opens its transaction, loads the
user row, calls the domain function and turns its refusals into HTTP answers (ReviewError → 422,
NotAllowed → 403). Audit events come from the domain functions themselves (grades, arbitration, reveals,
views, settings, attaching); nothing here appends them a second time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.review import (
    ARBITRATION,
    OPEN,
    Grade,
    ItemDetail,
    NotAllowed,
    Outcome,
    QueuePage,
    ReviewError,
    Scope,
    arbitrate,
    arbitration_queue,
    attach_folder,
    attach_submissions,
    cast_votes,
    counts,
    item_detail,
    scan_overview,
    sync_index,
    wellness,
)
from vigil.review.queue import SightingInfo
from vigil.review.queue import queue as review_queue
from vigil.store.db import write_lock
from vigil.store.models import ReviewItem, Scan, Submission, User

from .core import Refused, Viewer, Web

PER_PAGE = 60  # near-duplicate groups per page of the grading grid


@dataclass(frozen=True)
class ExposureView:
    reveals: int
    minutes: int
    due: bool
    why: str | None


def _exposure(status: wellness.BreakStatus) -> ExposureView:
    return ExposureView(status.reveals, status.seconds // 60, status.due, status.reason)


class Domain:
    def __init__(self, web: Web) -> None:
        self.web = web
        self.store = web.store
        self.settings = web.settings

    @staticmethod
    def _user(db: Session, viewer: Viewer) -> User:
        user = db.get(User, viewer.user_id)
        if user is None:
            raise Refused(403, "no such user")
        return user

    @contextmanager
    def _writing(self, viewer: Viewer) -> Iterator[tuple[Session, User]]:
        """A transaction that holds the write lock from its start (SQLite: no reader-to-writer upgrade
        that another writer could make fail), with the viewer's user row. The domain's refusals come out
        as HTTP answers, after the rollback."""
        try:
            with self.store.transaction() as db:
                write_lock(db)
                yield db, self._user(db, viewer)
        except NotAllowed as exc:
            raise Refused(403, str(exc)) from None
        except ReviewError as exc:
            raise Refused(422, str(exc)) from None

    # ---- scans ---------------------------------------------------------------------------------

    def attach(self, folder: Path, user_name: str, case: str | None = None) -> int:
        """Attach a finished scan folder for review as `user_name`; the scan's id."""
        with self.store.session() as db:
            user = db.scalar(select(User).where(User.name == user_name))
        try:
            attached = attach_folder(self.store, folder, user=user, case=case, settings=self.settings)
        except ReviewError as exc:
            raise Refused(422, str(exc)) from None
        assert attached.scan_id is not None
        return attached.scan_id

    def attach_submissions(self) -> None:
        """Pull new platform submissions into their queue (cheap when there are none)."""
        attach_submissions(self.store, user=None, settings=self.settings)

    def open_counts(self, scan_ids: list[int]) -> dict[int, int]:
        """Open review items per attached scan among `scan_ids` (scans not attached are absent)."""
        wanted = set(scan_ids)
        with self.store.session() as db:
            return {o.scan_id: o.counts.get(OPEN, 0) for o in scan_overview(db) if o.scan_id in wanted}

    def counts(self, viewer: Viewer) -> dict[str, int]:
        with self.store.session() as db:
            everything = counts(db, Scope.everything())
            scans = int(db.scalar(select(func.count()).select_from(Scan)) or 0)
            # Pending submissions join the review queue when it is opened: count them at the source.
            pending = select(func.count()).select_from(Submission).where(Submission.status == "pending")
            submissions = int(db.scalar(pending) or 0)
        return {
            "open": everything.get(OPEN, 0),
            "arbitration": everything.get(ARBITRATION, 0),
            "submissions": submissions,
            "scans": scans,
        }

    # ---- queues and grading ----------------------------------------------------------------------

    def queues(self, viewer: Viewer) -> dict[str, Any]:
        with self.store.session() as db:
            scans = scan_overview(db)
            submissions = counts(db, Scope.submissions())
        return {"scans": scans, "submissions": submissions}

    def queue(self, viewer: Viewer, scope: Scope, page: int) -> tuple[QueuePage, dict[int, SightingInfo]]:
        """A page of the queue for this user, and the platform submission behind each hash-only item.
        Opening it is audited (``review.view``: which items were listed, blurred)."""
        with self.store.session() as db:
            user = self._user(db, viewer)
            found = review_queue(db, scope, user=user, page=page, per_page=PER_PAGE, settings=self.settings)
            submissions: dict[int, SightingInfo] = {}
            for group in found.groups:
                for it in group.items:
                    if it.path is None:
                        detail = item_detail(db, it.item_id, with_votes=False)
                        sub = next((s for s in detail.sightings if s.submission_id), None) if detail else None
                        if sub is not None:
                            submissions[it.item_id] = sub
        shown = [i.item_id for g in found.groups for i in g.items]
        with self._writing(viewer) as (db, user):
            wellness.view(db, user, f"queue:{scope}", {"page": page, "items": shown})
        return found, submissions

    def grade(
        self,
        viewer: Viewer,
        items: list[int],
        category: str,
        series: str | None,
        victim: bool,
        notes: str | None,
    ) -> list[Outcome]:
        with self._writing(viewer) as (db, user):
            grade = Grade(category, series=series, victim_identified=victim, notes=notes)
            outcomes = cast_votes(db, items, user, grade, self.settings, bulk=len(items) > 1)
        sync_index(self.store)
        return outcomes

    def arbitration(self, page: int) -> tuple[list[ItemDetail], int]:
        with self.store.session() as db:
            return arbitration_queue(db, page=page, per_page=PER_PAGE)

    def arbitrate(
        self, viewer: Viewer, item: int, category: str, series: str | None, victim: bool, notes: str | None
    ) -> Outcome:
        with self._writing(viewer) as (db, user):
            grade = Grade(category, series=series, victim_identified=victim, notes=notes)
            outcome = arbitrate(db, item, user, grade, self.settings)
        sync_index(self.store)
        return outcome

    # ---- wellness --------------------------------------------------------------------------------

    def exposure_of(self, viewer: Viewer) -> ExposureView | None:
        if viewer.role not in ("admin", "reviewer"):
            return None
        with self.store.session() as db:
            return _exposure(wellness.break_status(db, self._user(db, viewer)))

    def reveal(self, viewer: Viewer, item: int) -> ExposureView:
        with self._writing(viewer) as (db, user):
            if db.get(ReviewItem, item) is None:
                raise Refused(404, "no such item")
            return _exposure(wellness.reveal(db, user, f"review_item:{item}"))

    def heartbeat(self, viewer: Viewer, seconds: int) -> ExposureView:
        with self._writing(viewer) as (db, user):
            return _exposure(wellness.heartbeat(db, user, seconds))

    def take_break(self, viewer: Viewer) -> ExposureView:
        with self._writing(viewer) as (db, user):
            return _exposure(wellness.take_break(db, user))

    def team(self, days: int) -> list[wellness.ExposureRow]:
        since = datetime.now(UTC).date() - timedelta(days=days - 1)
        with self.store.session() as db:
            return wellness.team_exposure(db, since=since)

    def save_settings(self, viewer: Viewer, changes: dict[str, Any]) -> dict[str, Any]:
        with self._writing(viewer) as (db, user):
            return wellness.update_settings(db, user, changes, by=user)
