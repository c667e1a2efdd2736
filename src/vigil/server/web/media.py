"""Thumbnails and video frame strips of review items, as seen in one attached scan.

The URL names only ids: ``/review/item/{item}/sighting/{scan_item}/thumb`` and ``.../frame/{k}``. The
file read is that scan item's own path, and only if it lies inside its scan's evidence roots and inside the
configured VIGIL_EVIDENCE_ROOTS (real paths: no ``..``, no symbolic link out); anything else is a 403, a
scan item that is not a sighting of that review item a 404. Responses are ``no-store``: no picture lands
in the browser's disk cache.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response
from sqlalchemy import select

from vigil.store.models import ReviewLink, Scan, ScanItem

from .auth import REVIEWERS, Guard, Sessions
from .core import Refused, Viewer, Web
from .evidence import evidence_file
from .thumbs import FRAMES

IMAGE_HEADERS = {"Cache-Control": "no-store, private", "Content-Disposition": "inline"}
DbId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def is_video(media_type: str | None) -> bool:
    return bool(media_type) and str(media_type).startswith("video/")


def routes(web: Web, _sessions: Sessions, guard: Guard) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    may_review = Depends(guard(*REVIEWERS))

    def locate(item_id: int, scan_item_id: int) -> tuple[str, str, str | None]:
        """(checked vigil path, sha256, media type) of a sighting of review item `item_id`."""
        with web.store.session() as db:
            row = db.execute(
                select(ScanItem.path, ScanItem.hashes, ScanItem.media_type, Scan.evidence, Scan.summary)
                .join(ReviewLink, ReviewLink.scan_item_id == ScanItem.id)
                .join(Scan, Scan.id == ScanItem.scan_id)
                .where(ReviewLink.item_id == item_id, ReviewLink.scan_item_id == scan_item_id)
                .limit(1)
            ).first()
        if row is None:
            raise Refused(404, "no such sighting of this item")
        path, hashes, media_type, evidence, summary = row
        cwd = (summary or {}).get("cwd")
        checked = evidence_file(
            path, list(evidence or []), web.evidence_roots, cwd if isinstance(cwd, str) else None
        )
        if checked is None:
            raise Refused(403, "the item's file is outside the scan's evidence roots")
        return checked, str((hashes or {}).get("sha256") or ""), media_type

    @router.get("/review/item/{item_id:int}/sighting/{scan_item_id:int}/thumb")
    def thumb(item_id: DbId, scan_item_id: DbId, _viewer: Annotated[Viewer, may_review]) -> Response:
        path, digest, media_type = locate(item_id, scan_item_id)
        data = web.thumbs.frame(path, digest, 0) if is_video(media_type) else web.thumbs.image(path, digest)
        if data is None:
            raise Refused(404, "no thumbnail could be made of this item")
        return Response(data, media_type="image/jpeg", headers=IMAGE_HEADERS)

    @router.get("/review/item/{item_id:int}/sighting/{scan_item_id:int}/frame/{k:int}")
    def frame(
        item_id: DbId,
        scan_item_id: DbId,
        k: int,
        _viewer: Annotated[Viewer, may_review],
    ) -> Response:
        if not 0 <= k < FRAMES:
            raise Refused(404, "no such frame")
        path, digest, media_type = locate(item_id, scan_item_id)
        if not is_video(media_type):
            raise Refused(404, "not a video")
        data = web.thumbs.frame(path, digest, k)
        if data is None:
            raise Refused(404, "no such frame")
        return Response(data, media_type="image/jpeg", headers=IMAGE_HEADERS)

    return router
