"""The review queues: what to grade next, in near-duplicate groups, paged. Read-only (no audit, no commit).

    from vigil.review import Scope, queue, item_detail, arbitration_queue, scan_overview

    page = queue(session, Scope.scan(7), user=me, page=1, per_page=20)
    for group in page.groups:          # similar groups first, then unknown; each group graded in one go
        group.group_id, group.verdict, [i.item_id for i in group.items]
    detail = item_detail(session, item_id)        # hashes, metadata, sightings (paths), votes
    disputed = arbitration_queue(session)         # items waiting for an admin, with their votes
    scans = scan_overview(session)                # attached scans and how much is left in each

Queue rules: only items whose status is in `statuses` (default: open) are listed; with `user` (and
``hide_voted=True``) the items that user has voted on are left out, so each reviewer sees what still
needs their vote. Groups are the near-duplicate groups stored when the scan was attached (PDQ distance
<= `Settings.review_group_distance`); a case or `Scope.everything()` joins the groups of its scans that
share an item. A group's id is the smallest review item id of the whole group (whatever its items'
statuses), so it stays the same while the group is graded: pass it back to `grading.grade_group`.
An item's ``path`` is the evidence path of one of its sightings (container layers joined by ``!/``; read
it with `vigil.sources.locator.read_evidence`); items without a picture (platform submissions) have
``path is None``: show their hashes and metadata (`item_detail(...).sightings`).

The arbitration queue and item details carry every vote. Keep votes independent: show other reviewers'
votes to admins (and to a reviewer after their own vote), not before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.config import Settings
from vigil.core.records import AsDict
from vigil.review.base import ARBITRATION, OPEN, STATUSES, TRUSTED, Scope
from vigil.review.groups import scope_filter, scope_groups, visible_groups
from vigil.store.models import Case, ReviewItem, ReviewLink, ReviewVote, Scan, ScanItem, Submission, User

MAX_PER_PAGE = 500


@dataclass(frozen=True, slots=True)
class QueueItem(AsDict):
    item_id: int
    key: str  # e.g. sha256:<hex>
    verdict: str  # similar or unknown
    status: str  # open, arbitration, trusted
    hashes: dict[str, str]
    media_type: str | None
    size: int | None
    votes: int  # votes cast so far
    voted: bool  # the queue's user has voted on it
    entry_id: int | None
    category: str | None  # the trusted category, once trusted
    path: str | None  # evidence path of a sighting with a picture (None: hash-only)
    scan_item_id: int | None
    submission_id: int | None
    # For a similar item: the known entries its scan found it near, as in items.jsonl
    # ({signal, distance, entry_id, category, series, source}), nearest first.
    matches: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class QueueGroup:
    group_id: int
    verdict: str  # similar if any of its items is
    items: list[QueueItem]

    def as_dict(self) -> dict[str, Any]:
        return {
            "group_id": self.group_id,
            "verdict": self.verdict,
            "items": [i.as_dict() for i in self.items],
        }


@dataclass(frozen=True, slots=True)
class QueuePage:
    scope: Scope
    groups: list[QueueGroup]
    page: int
    per_page: int  # groups per page
    total_groups: int
    total_items: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total_groups // self.per_page))

    def as_dict(self) -> dict[str, Any]:
        return {
            "scope": str(self.scope),
            "page": self.page,
            "pages": self.pages,
            "per_page": self.per_page,
            "total_groups": self.total_groups,
            "total_items": self.total_items,
            "groups": [g.as_dict() for g in self.groups],
        }


@dataclass(frozen=True, slots=True)
class VoteInfo:
    user_name: str
    kind: str  # vote or arbitration
    category: str
    series: str | None
    victim_identified: bool
    notes: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SightingInfo:
    verdict: str
    scan_id: int | None = None
    scan_item_id: int | None = None
    path: str | None = None
    submission_id: int | None = None
    platform: str | None = None
    reporter_ref: str | None = None
    location: str | None = None
    reported_at: datetime | None = None
    received_at: datetime | None = None
    submission_kind: str | None = None
    submission_notes: str | None = None


@dataclass(frozen=True, slots=True)
class ItemDetail:
    item: QueueItem
    votes: list[VoteInfo]
    sightings: list[SightingInfo]
    trusted_at: datetime | None


@dataclass(frozen=True, slots=True)
class ScanOverview:
    scan_id: int
    case_id: int | None
    case: str | None
    out_dir: str
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, int] = field(default_factory=dict)  # review items per status


def queue(
    session: Session,
    scope: Scope,
    *,
    user: User | None = None,
    statuses: Sequence[str] = (OPEN,),
    hide_voted: bool = True,
    page: int = 1,
    per_page: int = 25,
    settings: Settings | None = None,
) -> QueuePage:
    """One page of a queue (pages of groups, similar groups first). `settings` is accepted for the
    future (groups are formed when a scan is attached, with `Settings.review_group_distance`)."""
    bad = set(statuses) - set(STATUSES)
    if bad:
        raise ValueError(f"unknown review status {sorted(bad)[0]!r}")
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    groups = scope_groups(session, scope)
    shown = visible_groups(session, groups, statuses, user if hide_voted else None)
    ordered = sorted(shown.items(), key=lambda kv: (0 if kv[1][0] == "similar" else 1, kv[0]))
    total_items = sum(len(items) for _v, items in shown.values())
    window = ordered[(page - 1) * per_page : page * per_page]
    details = _items(session, [i for _g, (_v, items) in window for i in items], scope, user)
    return QueuePage(
        scope=scope,
        groups=[QueueGroup(gid, verdict, [details[i] for i in items]) for gid, (verdict, items) in window],
        page=page,
        per_page=per_page,
        total_groups=len(ordered),
        total_items=total_items,
    )


def group_item_ids(
    session: Session,
    scope: Scope,
    group_id: int,
    *,
    statuses: Sequence[str] = (OPEN,),
    settings: Settings | None = None,
) -> list[int]:
    """The items of one group of a queue whose status is in `statuses`, in id order."""
    members = scope_groups(session, scope).get(group_id)
    if not members:
        return []
    wanted = set(statuses)
    status = dict(
        session.execute(
            select(ReviewItem.id, ReviewItem.status).where(ReviewItem.id.in_(sorted(members[1])))
        ).all()
    )
    return sorted(i for i in members[1] if status.get(i) in wanted)


def item_detail(
    session: Session, item_id: int, *, user: User | None = None, with_votes: bool = True
) -> ItemDetail | None:
    """Everything about one item (None if there is no such item)."""
    row = session.get(ReviewItem, item_id)
    if row is None:
        return None
    item = _items(session, [item_id], Scope.everything(), user)[item_id]
    votes = _votes(session, [item_id]).get(item_id, []) if with_votes else []
    sightings = []
    for link, path, sub in session.execute(
        select(ReviewLink, ScanItem.path, Submission)
        .outerjoin(ScanItem, ScanItem.id == ReviewLink.scan_item_id)
        .outerjoin(Submission, Submission.id == ReviewLink.submission_id)
        .where(ReviewLink.item_id == item_id)
        .order_by(ReviewLink.id)
    ):
        sightings.append(
            SightingInfo(
                verdict=link.verdict,
                scan_id=link.scan_id,
                scan_item_id=link.scan_item_id,
                path=path,
                submission_id=link.submission_id,
                platform=sub.platform if sub else None,
                reporter_ref=sub.reporter_ref if sub else None,
                location=sub.location if sub else None,
                reported_at=sub.reported_at if sub else None,
                received_at=sub.received_at if sub else None,
                submission_kind=sub.kind if sub else None,
                submission_notes=sub.notes if sub else None,
            )
        )
    return ItemDetail(item, votes, sightings, row.trusted_at)


def arbitration_queue(session: Session, *, page: int = 1, per_page: int = 25) -> tuple[list[ItemDetail], int]:
    """Items in arbitration, oldest first, with their votes: (this page, total)."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    base = select(ReviewItem.id).where(ReviewItem.status == ARBITRATION)
    total = int(session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    ids = session.scalars(
        base.order_by(ReviewItem.updated_at, ReviewItem.id)
        .offset((max(page, 1) - 1) * per_page)
        .limit(per_page)
    ).all()
    details = [item_detail(session, int(i)) for i in ids]
    return [d for d in details if d is not None], total


def scan_overview(session: Session, *, case_id: int | None = None) -> list[ScanOverview]:
    """Attached scans (those with review items), newest first, with their review items per status."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {s: 0 for s in STATUSES})
    stmt = (
        select(ReviewLink.scan_id, ReviewItem.status, func.count(func.distinct(ReviewItem.id)))
        .join(ReviewItem, ReviewItem.id == ReviewLink.item_id)
        .where(ReviewLink.scan_id.is_not(None))
        .group_by(ReviewLink.scan_id, ReviewItem.status)
    )
    for scan_id, status, n in session.execute(stmt):
        if scan_id is not None:
            counts[int(scan_id)][status] = int(n)
    if not counts:
        return []
    rows = session.execute(
        select(Scan, Case.name)
        .outerjoin(Case, Case.id == Scan.case_id)
        .where(Scan.id.in_(sorted(counts)))
        .order_by(Scan.id.desc())
    )
    return [
        ScanOverview(
            scan.id,
            scan.case_id,
            case,
            scan.out_dir,
            scan.started_at,
            scan.finished_at,
            dict(counts[scan.id]),
        )
        for scan, case in rows
        if case_id is None or scan.case_id == case_id
    ]


def counts(session: Session, scope: Scope) -> dict[str, int]:
    """Review items of a scope per status (open, arbitration, trusted)."""
    out = {s: 0 for s in STATUSES}
    stmt = (
        select(ReviewItem.status, func.count(func.distinct(ReviewItem.id)))
        .join(ReviewLink, ReviewLink.item_id == ReviewItem.id)
        .where(scope_filter(scope))
        .group_by(ReviewItem.status)
    )
    for status, n in session.execute(stmt):
        out[status] = int(n)
    return out


# ---- item rows ---------------------------------------------------------------------------------------


def _items(session: Session, ids: list[int], scope: Scope, user: User | None) -> dict[int, QueueItem]:
    if not ids:
        return {}
    vote_counts = dict(
        session.execute(
            select(ReviewVote.item_id, func.count())
            .where(ReviewVote.item_id.in_(ids), ReviewVote.kind == "vote")
            .group_by(ReviewVote.item_id)
        ).all()
    )
    mine: set[int] = set()
    if user is not None:
        mine = set(
            session.scalars(
                select(ReviewVote.item_id).where(
                    ReviewVote.item_id.in_(ids), ReviewVote.user_id == user.id, ReviewVote.kind == "vote"
                )
            )
        )
    # A sighting with a picture, preferring one in the scope; the scope's verdict; what it is near.
    pictures: dict[int, tuple[int, str | None, bool]] = {}
    verdicts: dict[int, str] = {}
    near: dict[int, list[dict[str, Any]]] = {}
    for item_id, scan_item_id, path, matches, verdict, in_scope in session.execute(
        select(
            ReviewLink.item_id,
            ReviewLink.scan_item_id,
            ScanItem.path,
            ScanItem.matches,
            ReviewLink.verdict,
            scope_filter(scope),
        )
        .outerjoin(ScanItem, ScanItem.id == ReviewLink.scan_item_id)
        .where(ReviewLink.item_id.in_(ids))
        .order_by(ReviewLink.id)
    ):
        if scan_item_id is not None:
            before = pictures.get(item_id)
            if before is None or (in_scope and not before[2]):
                pictures[item_id] = (int(scan_item_id), path, bool(in_scope))
        if in_scope and verdicts.get(item_id) != "similar":
            verdicts[item_id] = verdict
        if matches and (item_id not in near or in_scope):
            near.setdefault(item_id, list(matches))
    out = {}
    for row in session.scalars(select(ReviewItem).where(ReviewItem.id.in_(ids))):
        pic = pictures.get(row.id)
        out[row.id] = QueueItem(
            item_id=row.id,
            key=row.key,
            verdict=verdicts.get(row.id, row.verdict),
            status=row.status,
            hashes=dict(row.hashes or {}),
            media_type=row.media_type,
            size=row.size,
            votes=int(vote_counts.get(row.id, 0)),
            voted=row.id in mine,
            entry_id=row.entry_id,
            category=row.category if row.status == TRUSTED else None,
            path=pic[1] if pic else None,
            scan_item_id=pic[0] if pic else row.scan_item_id,
            submission_id=row.submission_id,
            matches=near.get(row.id, []),
        )
    return out


def _votes(session: Session, ids: list[int]) -> dict[int, list[VoteInfo]]:
    out: dict[int, list[VoteInfo]] = defaultdict(list)
    for v in session.scalars(select(ReviewVote).where(ReviewVote.item_id.in_(ids)).order_by(ReviewVote.id)):
        out[v.item_id].append(
            VoteInfo(v.user_name, v.kind, v.category, v.series, v.victim_identified, v.notes, v.created_at)
        )
    return out
