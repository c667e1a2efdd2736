"""The near-duplicate groups of a review queue's scope, and which of their items a queue shows.

Groups are stored on each link when a scan (or the submissions) is attached (`vigil.review.items`); here
the links of one scope are joined into the scope's groups: links in the same scan (or among the
submissions) with the same stored group are one group, and groups that share an item are joined. A group's
id is the smallest stored group id joined (= its smallest review item id), whatever its items' statuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.review.base import Scope
from vigil.store.models import ReviewItem, ReviewLink, ReviewVote, Scan, User


def scope_filter(scope: Scope) -> Any:
    """The condition on `ReviewLink` rows that selects the scope's links."""
    if scope.kind == "scan":
        return ReviewLink.scan_id == scope.id
    if scope.kind == "case":
        return ReviewLink.scan_id.in_(select(Scan.id).where(Scan.case_id == scope.id))
    if scope.kind == "submissions":
        return ReviewLink.submission_id.is_not(None)
    return ReviewLink.id.is_not(None)


def scope_groups(session: Session, scope: Scope) -> dict[int, tuple[dict[int, str], list[int]]]:
    """Every group of the scope: group id -> ({item id: verdict in the scope}, item ids in id order).

    Links in the same scan (or among the submissions) with the same stored group are one group; groups
    sharing an item are joined. The id is the smallest stored group id (= smallest item id) joined."""
    rows = session.execute(
        select(ReviewLink.item_id, ReviewLink.scan_id, ReviewLink.group_id, ReviewLink.verdict).where(
            scope_filter(scope)
        )
    ).all()
    parent: dict[Any, Any] = {}

    def find(x: Any) -> Any:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    verdicts: dict[int, str] = {}
    for item_id, scan_id, group_id, verdict in rows:
        label = ("g", scan_id if scan_id is not None else "sub", int(group_id))
        a, b = find(("i", int(item_id))), find(label)
        if a != b:
            parent[a] = b
        if verdicts.get(int(item_id)) != "similar":
            verdicts[int(item_id)] = verdict
    smallest: dict[Any, int] = {}
    for node in list(parent):
        if node[0] == "g":
            root = find(node)
            smallest[root] = min(smallest.get(root, node[2]), node[2])
    groups: dict[int, tuple[dict[int, str], list[int]]] = {}
    for item_id in sorted(verdicts):
        gid = smallest[find(("i", item_id))]
        members = groups.setdefault(gid, ({}, []))
        members[0][item_id] = verdicts[item_id]
        members[1].append(item_id)
    return groups


def visible_groups(
    session: Session,
    groups: dict[int, tuple[dict[int, str], list[int]]],
    statuses: Sequence[str],
    user: User | None,
) -> dict[int, tuple[str, list[int]]]:
    """The groups' items that the queue shows: group id -> (group verdict, item ids)."""
    all_ids = sorted(i for _v, ids in groups.values() for i in ids)
    wanted: set[int] = set()
    for i in range(0, len(all_ids), 900):
        chunk = all_ids[i : i + 900]
        wanted.update(
            int(x)
            for x in session.scalars(
                select(ReviewItem.id).where(ReviewItem.id.in_(chunk), ReviewItem.status.in_(list(statuses)))
            )
        )
    if user is not None and wanted:
        voted = set(
            session.scalars(
                select(ReviewVote.item_id).where(ReviewVote.user_id == user.id, ReviewVote.kind == "vote")
            )
        )
        wanted -= {int(v) for v in voted}
    out: dict[int, tuple[str, list[int]]] = {}
    for gid, (verdicts, ids) in groups.items():
        keep = [i for i in ids if i in wanted]
        if keep:
            out[gid] = ("similar" if any(verdicts[i] == "similar" for i in keep) else "unknown", keep)
    return out
