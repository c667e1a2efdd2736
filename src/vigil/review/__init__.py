"""The review domain (issue 6): cases and scans in front of reviewers, grading with consensus, arbitration,
and reviewer wellness. No HTTP here: the web app (`vigil.server.web`) calls these functions.

Modules, each with its own usage notes:

- `vigil.review.attach` — attach a finished ``vigil scan --out`` folder, run a scan and attach it, pull in
  pending platform submissions (these own their transactions).
- `vigil.review.queue` — the queues (per scan, case, submissions, everything), near-duplicate groups,
  item details, the arbitration queue, scan overview (read-only).
- `vigil.review.grading` — votes (one item, in bulk, a whole group), consensus, arbitration; each grade is
  an assessment and makes the item's hashes a known entry.
- `vigil.review.wellness` — exposure per user per day, break prompts, team totals, per-user settings.
- `vigil.review.items` — review items and their sightings, grouping (used by attach; session-level).
- `vigil.review.groups` — a queue scope's near-duplicate groups and the items a queue shows (used by queue).
- `vigil.review.record` — what a grade writes to the store: entry, signals, assessment (used by grading).
- `vigil.review.base` — what they share: statuses, `Grade`, `Scope`, roles, `ReviewError`.

Session-level functions never commit: the caller opens ``with store.transaction() as session:`` and
the work lands when it ends (or none of it, on an exception). Audited functions append to the audit chain
first in the transaction. Refusals raise `ReviewError` (a `VigilError`); role refusals `NotAllowed`.
Users are `vigil.store.models.User` rows (roles admin, reviewer, analyst). Statuses of a review item:
``open`` -> ``trusted`` after `Settings.review_votes` agreeing votes, or ``open`` -> ``arbitration`` on a
disagreement -> ``trusted`` by an admin's decision.
"""

from vigil.review.attach import (
    Attached,
    attach_folder,
    attach_scan,
    attach_submissions,
    read_scan_folder,
    scan_and_attach,
)
from vigil.review.base import ARBITRATION, OPEN, TRUSTED, NotAllowed, ReviewError, Scope
from vigil.review.grading import Grade, Outcome, arbitrate, cast_vote, cast_votes, grade_group, sync_index
from vigil.review.queue import (
    ItemDetail,
    QueueGroup,
    QueueItem,
    QueuePage,
    arbitration_queue,
    counts,
    group_item_ids,
    item_detail,
    queue,
    scan_overview,
)

__all__ = [
    "ARBITRATION",
    "OPEN",
    "TRUSTED",
    "Attached",
    "Grade",
    "ItemDetail",
    "NotAllowed",
    "Outcome",
    "QueueGroup",
    "QueueItem",
    "QueuePage",
    "ReviewError",
    "Scope",
    "arbitrate",
    "arbitration_queue",
    "attach_folder",
    "attach_scan",
    "attach_submissions",
    "cast_vote",
    "cast_votes",
    "counts",
    "grade_group",
    "group_item_ids",
    "item_detail",
    "queue",
    "read_scan_folder",
    "scan_and_attach",
    "scan_overview",
    "sync_index",
]
