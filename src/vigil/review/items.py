"""Review items (one per distinct content) and their sightings (scan items, platform submissions).

- ``link_scan(session, scan_id, settings)`` — for a scan already recorded in the store (``scan`` and
  ``scan_item`` rows), make or find the review item of each ``similar``/``unknown`` scan item and link
  them, then regroup the scan's near-duplicates. Idempotent: scan items already linked are skipped.
- ``link_submissions(session, settings)`` — the same for pending platform submissions (hash-only items).
- ``item_key(hashes)`` — what makes two sightings the same item: ``sha256:<hex>``, else the first of
  sha1, md5, pdq, other signals (long values are keyed by their SHA-256). The same image in two scans is
  one item, graded once.
- ``components(ids, pdqs, distance)`` — near-duplicate groups (union-find over PDQ pairs within
  `distance`, by brute force for small sets and through an in-memory-sized temporary PDQ index for large
  ones): ``{item id: group id}``, the group id being the smallest item id of its connected component.

Nothing here commits; call inside the caller's transaction (after `vigil.store.audit.append` on SQLite).
"""

from __future__ import annotations

import hashlib
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from vigil.config import Settings
from vigil.core.clock import utcnow
from vigil.core.records import AsDict
from vigil.index.brute import BruteForceIndex
from vigil.index.mih import PDQIndex
from vigil.review.base import OPEN, REVIEWABLE, TRUSTED
from vigil.store.models import ReviewItem, ReviewLink, ScanItem, Submission

KEY_ORDER = ("sha256", "sha1", "md5", "pdq")
MAX_KEY_VALUE = 128  # longer values (a video's vPDQ) are keyed by their SHA-256
BRUTE_MAX = 1500  # above this many hashes, groups are found through a temporary PDQ index
CHUNK = 900  # keys per IN (...) list


def item_key(hashes: Mapping[str, str]) -> str | None:
    """The key of the content these hashes (signal name -> hex) describe; None if there are none."""
    names = [n for n in KEY_ORDER if hashes.get(n)] + sorted(
        n for n in hashes if n not in KEY_ORDER and hashes[n]
    )
    if not names:
        return None
    name, value = names[0], str(hashes[names[0]]).lower()
    if len(value) > MAX_KEY_VALUE:
        value = "sha256-of-" + hashlib.sha256(value.encode()).hexdigest()
    return f"{name}:{value}"


def pdq_of(hashes: Mapping[str, str]) -> bytes | None:
    value = hashes.get("pdq")
    if not value:
        return None
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        return None
    return raw if len(raw) == 32 else None


@dataclass(frozen=True, slots=True)
class Sighting:
    """One place a content was seen: a scan item or a submission."""

    key: str
    hashes: dict[str, str]
    quality: dict[str, int] | None
    media_type: str | None
    size: int | None
    verdict: str
    scan_id: int | None = None
    scan_item_id: int | None = None
    submission_id: int | None = None


@dataclass(slots=True)
class LinkStats(AsDict):
    sightings: int = 0  # new links
    items_created: int = 0
    groups: int = 0  # near-duplicate groups (of two or more items) in the scope after regrouping


def link_scan(session: Session, scan_id: int, settings: Settings) -> LinkStats:
    """Link a recorded scan's similar and unknown items to review items, then regroup the scan."""
    linked = select(ReviewLink.scan_item_id).where(ReviewLink.scan_id == scan_id)
    rows = session.execute(
        select(
            ScanItem.id,
            ScanItem.hashes,
            ScanItem.quality,
            ScanItem.media_type,
            ScanItem.size,
            ScanItem.verdict,
        )
        .where(
            ScanItem.scan_id == scan_id,
            ScanItem.verdict.in_(REVIEWABLE),
            ScanItem.id.not_in(linked),
        )
        .order_by(ScanItem.id)
    ).all()
    sightings = []
    for sid, hashes, quality, media_type, size, verdict in rows:
        key = item_key(hashes or {})
        if key is not None:
            sightings.append(
                Sighting(key, dict(hashes), quality, media_type, size, verdict, scan_id, scan_item_id=sid)
            )
    stats = _link(session, sightings)
    stats.groups = regroup(session, scan_id=scan_id, settings=settings)
    return stats


def link_submissions(session: Session, settings: Settings) -> LinkStats:
    """Link pending platform submissions not yet linked to review items, then regroup the submissions.
    A submission that matched an entry (``entry_id``) counts as `similar`, any other as `unknown`."""
    linked = select(ReviewLink.submission_id).where(ReviewLink.submission_id.is_not(None))
    rows = session.execute(
        select(Submission.id, Submission.hashes, Submission.media_type, Submission.entry_id)
        .where(Submission.status == "pending", Submission.id.not_in(linked))
        .order_by(Submission.id)
    ).all()
    sightings = []
    for sub_id, hashes, media_type, entry_id in rows:
        clean = {str(k): str(v).lower() for k, v in (hashes or {}).items() if v}
        key = item_key(clean)
        if key is not None:
            verdict = "similar" if entry_id is not None else "unknown"
            sightings.append(Sighting(key, clean, None, media_type, None, verdict, submission_id=sub_id))
    if not sightings:
        return LinkStats()
    stats = _link(session, sightings)
    stats.groups = regroup(session, scan_id=None, settings=settings)
    return stats


def _link(session: Session, sightings: Sequence[Sighting]) -> LinkStats:
    """Link each sighting to the review item of its key (created if new)."""
    stats = LinkStats(sightings=len(sightings))
    if not sightings:
        return stats
    now = utcnow()
    keys = sorted({s.key for s in sightings})
    found = _existing_items(session, keys)
    first: dict[str, Sighting] = {}
    similar: set[str] = set()  # keys with a similar sighting: their item is similar
    for s in sightings:
        first.setdefault(s.key, s)
        if s.verdict == "similar":
            similar.add(s.key)
    new = [first[k] for k in keys if k not in found]
    ids: dict[str, int] = {k: v[0] for k, v in found.items()}
    ids.update(_create_items(session, new, similar, now))
    stats.items_created = len(new)
    _update_seen(session, found, first, similar, now)
    links = [
        {
            "item_id": ids[s.key],
            "scan_id": s.scan_id,
            "scan_item_id": s.scan_item_id,
            "submission_id": s.submission_id,
            "verdict": s.verdict,
            "group_id": ids[s.key],
        }
        for s in sightings
    ]
    for i in range(0, len(links), 1000):
        session.execute(insert(ReviewLink), links[i : i + 1000])
    return stats


def _existing_items(session: Session, keys: list[str]) -> dict[str, tuple[int, str, int | None, int | None]]:
    """key -> (id, verdict, scan item id, submission id) of the review items that exist for `keys`."""
    found: dict[str, tuple[int, str, int | None, int | None]] = {}
    for i in range(0, len(keys), CHUNK):
        for iid, key, verdict, scan_item_id, submission_id in session.execute(
            select(
                ReviewItem.id,
                ReviewItem.key,
                ReviewItem.verdict,
                ReviewItem.scan_item_id,
                ReviewItem.submission_id,
            ).where(ReviewItem.key.in_(keys[i : i + CHUNK]))
        ):
            found[key] = (int(iid), verdict, scan_item_id, submission_id)
    return found


def _create_items(session: Session, new: list[Sighting], similar: set[str], now: datetime) -> dict[str, int]:
    """Insert an open review item for each sighting (the first of its key); returns key -> id."""
    rows = [
        {
            "key": s.key,
            "hashes": s.hashes,
            "quality": s.quality,
            "pdq": pdq_of(s.hashes),
            "pdq_quality": (s.quality or {}).get("pdq"),
            "media_type": s.media_type,
            "size": s.size,
            "verdict": "similar" if s.key in similar else s.verdict,
            "status": OPEN,
            "scan_item_id": s.scan_item_id,
            "submission_id": s.submission_id,
            "created_at": now,
            "updated_at": now,
        }
        for s in new
    ]
    ids: dict[str, int] = {}
    for i in range(0, len(rows), 500):
        result = session.execute(
            insert(ReviewItem).returning(ReviewItem.id, ReviewItem.key, sort_by_parameter_order=True),
            rows[i : i + 500],
        )
        ids.update({key: int(iid) for iid, key in result})
    return ids


def _update_seen(
    session: Session,
    found: dict[str, tuple[int, str, int | None, int | None]],
    first: dict[str, Sighting],
    similar: set[str],
    now: datetime,
) -> None:
    """Items seen before: a similar sighting makes the item similar; fill in a first picture or submission."""
    for key, (iid, verdict, scan_item_id, submission_id) in found.items():
        s = first[key]
        values: dict[str, object] = {}
        if key in similar and verdict != "similar":
            values["verdict"] = "similar"
        if scan_item_id is None and s.scan_item_id is not None:
            values["scan_item_id"] = s.scan_item_id
        if submission_id is None and s.submission_id is not None:
            values["submission_id"] = s.submission_id
        if values:
            session.execute(update(ReviewItem).where(ReviewItem.id == iid).values(**values, updated_at=now))


def regroup(session: Session, *, scan_id: int | None, settings: Settings) -> int:
    """Recompute the near-duplicate groups of one scan's links (or, with ``scan_id=None``, of the
    submissions' links of items not yet trusted: the submissions only ever grow) and store them;
    returns how many groups have two or more items."""
    if scan_id is not None:
        where = ReviewLink.scan_id == scan_id
    else:
        where = ReviewLink.submission_id.is_not(None) & (ReviewItem.status != TRUSTED)
    rows = session.execute(
        select(ReviewLink.id, ReviewLink.group_id, ReviewItem.id, ReviewItem.pdq, ReviewItem.pdq_quality)
        .join(ReviewItem, ReviewItem.id == ReviewLink.item_id)
        .where(where)
    ).all()
    items: dict[int, bytes | None] = {}
    for _lid, _gid, iid, pdq, quality in rows:
        ok = pdq is not None and (quality is None or quality >= settings.pdq_min_quality)
        items[int(iid)] = bytes(pdq) if ok and pdq is not None else None
    with_pdq = [(i, p) for i, p in items.items() if p is not None]
    groups = components([i for i, _ in with_pdq], [p for _, p in with_pdq], settings.review_group_distance)
    updates = [
        {"b_id": int(lid), "b_group": groups.get(int(iid), int(iid))}
        for lid, gid, iid, _pdq, _q in rows
        if groups.get(int(iid), int(iid)) != gid
    ]
    if updates:
        stmt = (
            update(ReviewLink).where(ReviewLink.id == bindparam("b_id")).values(group_id=bindparam("b_group"))
        )
        session.connection().execute(stmt, updates)
    sizes: dict[int, int] = defaultdict(int)
    for gid in groups.values():
        sizes[gid] += 1
    return sum(1 for n in sizes.values() if n > 1)


def components(ids: Sequence[int], pdqs: Sequence[bytes], distance: int) -> dict[int, int]:
    """Connected components of the graph "PDQ distance <= `distance`": {id: smallest id of its component}."""
    n = len(ids)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if n > 1:
        hashes = np.frombuffer(b"".join(pdqs), dtype=np.uint8).reshape(n, 32)
        for i, hits in enumerate(_neighbours(hashes, distance)):
            for j, _d in hits:
                if j != i:
                    a, b = find(i), find(j)
                    if a != b:
                        parent[max(a, b)] = min(a, b)
    smallest: dict[int, int] = {}
    for i in range(n):
        root = find(i)
        smallest[root] = min(smallest.get(root, ids[i]), ids[i])
    return {ids[i]: smallest[find(i)] for i in range(n)}


def _neighbours(hashes: np.ndarray, distance: int) -> Iterable[list[tuple[int, int]]]:
    """For each row, the (row, distance) of every row within `distance` (itself included)."""
    rows = np.arange(len(hashes), dtype=np.int64)
    if len(hashes) <= BRUTE_MAX:
        return BruteForceIndex(hashes, rows).search(hashes, distance)
    with tempfile.TemporaryDirectory(prefix="vigil-group-") as tmp:
        index = PDQIndex.open(tmp)
        try:
            index.replace(hashes, rows, np.full(len(rows), 255, np.uint8), store_seq=0)
            return index.search(hashes, distance)
        finally:
            index.close()
