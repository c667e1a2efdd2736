"""``POST /api/v1/lookup`` and ``POST /api/v1/lookup/file``.

- ``lookup``: up to 10,000 hashes (md5, sha1, sha256 exactly; pdq within the PDQ radius, through the
  memory-mapped index) → matches in request order. The body is parsed by vigil.server.body and the answer
  written with orjson: at 10,000 hashes pydantic would cost more than the lookup. A few hashes are answered
  on the event loop (well under a millisecond), big batches in the thread pool.
- ``lookup/file``: one image or video (multipart field ``file``, up to ``VIGIL_API_MAX_UPLOAD`` bytes),
  hashed in memory — nothing of it is stored — and matched like a scanned file (PDQ with rotations and
  flips, vPDQ for videos). Decoding is what costs memory, so an image that cannot be decoded at reduced
  size (every format but JPEG) over ``VIGIL_API_MAX_PIXELS`` is refused (413, the reason in ``detail``)
  from its header alone, and at most ``VIGIL_API_MAX_DECODES`` uploads are hashed at once per worker.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from vigil import signals
from vigil.config import Settings
from vigil.core.errors import HashError
from vigil.hashing import FileHashes, hash_stream
from vigil.match import Described, Found, Match
from vigil.media import DecodeLimits, check_size
from vigil.server.api.deps import LookupKey, state_of
from vigil.server.api.schemas import FILE_BODY, LOOKUP_BODY, FileLookupOut, LookupOut
from vigil.server.api.snapshot import Snapshot
from vigil.server.body import BodyError, parse_lookup
from vigil.server.upload import Upload, UploadError, read_upload

INLINE_HASHES = 16  # batches up to this size are answered on the event loop


def add_routes(router: APIRouter) -> None:
    router.add_api_route(
        "/api/v1/lookup", lookup, methods=["POST"], response_model=LookupOut, openapi_extra=LOOKUP_BODY
    )
    router.add_api_route(
        "/api/v1/lookup/file",
        lookup_file,
        methods=["POST"],
        response_model=FileLookupOut,
        openapi_extra=FILE_BODY,
    )


async def lookup(request: Request, key: LookupKey) -> Response:
    """Look up to 10,000 hashes (body: `LookupIn`); the matches come back in request order."""
    try:  # decoded and checked by vigil.server.body, not a pydantic object per hash
        parsed = parse_lookup(await request.body())
    except BodyError as exc:
        raise HTTPException(422, str(exc)) from None
    state = state_of(request)
    snapshot = state.snapshot
    if snapshot.check_due():
        await run_in_threadpool(snapshot.current)
    # A few hashes are answered on the event loop (well under a millisecond); big batches in the
    # thread pool, so they never hold up other callers.
    if len(parsed) <= INLINE_HASHES:
        found, described = snapshot.lookup_many(parsed)
        body_out = results(snapshot, parsed, found, described)
    else:
        found, described = await run_in_threadpool(snapshot.lookup_many, parsed)
        body_out = await run_in_threadpool(results, snapshot, parsed, found, described)
    state.audit_call(key, "api.lookup", {"hashes": len(parsed), "matched": sum(1 for row in found if row)})
    # Built to LookupOut's shape here; skipping FastAPI's re-validation of up to 10,000 results.
    return Response(orjson.dumps({"results": body_out}), media_type="application/json")


def results(
    snapshot: Snapshot, parsed: Sequence[tuple[str, bytes]], found: Found, described: Described
) -> list[dict[str, Any]]:
    """`ResultOut`s for a lookup, in request order."""
    confirmed = snapshot.confirmed(set(described))
    out = []
    for (name, value), row in zip(parsed, found, strict=True):
        matches = []
        for eid, dist in row:
            category, series, source = described[eid]
            matches.append(
                {
                    "entry_id": eid,
                    "distance": dist,
                    "category": category,
                    "series": series,
                    "source": source,
                    "last_confirmed": confirmed.get(eid),
                }
            )
        out.append({"signal": name, "value": value.hex(), "matches": matches})
    return out


async def lookup_file(request: Request, key: LookupKey) -> dict[str, Any]:
    """Hash one uploaded image or video in memory (nothing of it is stored) and look its hashes up."""
    state = state_of(request)
    try:
        upload = await read_upload(
            request.headers.get("content-type"),
            request.stream(),
            field="file",
            max_bytes=state.settings.api_max_upload,
        )
    except UploadError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    limits = upload_limits(state.settings)
    try:  # the header only: a small file can hold an image of billions of pixels
        await run_in_threadpool(check_size, upload.data, limits)
    except HashError as exc:
        raise HTTPException(413, str(exc)) from None
    async with state.decodes:  # each decode holds an image's pixels; a few at a time
        hashed = await run_in_threadpool(hash_upload, upload, limits)
    matcher = await run_in_threadpool(state.snapshot.current)
    matches = await run_in_threadpool(matcher.match, hashed)  # exact, PDQ with rotations/flips, vPDQ
    confirmed = await run_in_threadpool(state.snapshot.confirmed, {m.entry_id for m in matches})
    out = [
        {"signal": name, "value": value, "matches": file_matches(matches, name, confirmed)}
        for name, value in file_signals(hashed)
    ]
    state.audit_call(
        key,
        "api.lookup_file",
        {
            "bytes": hashed.size,
            "media_type": hashed.media_type,
            "matched": len({m.entry_id for m in matches}),
        },
    )
    return {"media_type": hashed.media_type, "size": hashed.size, "error": hashed.error, "results": out}


def upload_limits(settings: Settings) -> DecodeLimits:
    """Decode limits for uploads: the scan's, and `api_max_pixels` for images decoded at full size."""
    return DecodeLimits(settings.max_image_pixels, settings.decode_size, settings.api_max_pixels)


def hash_upload(upload: Upload, limits: DecodeLimits) -> FileHashes:
    """Every signal of an uploaded file, computed in memory."""
    data = upload.data
    return hash_stream(io.BytesIO(data), upload.filename or "upload", limits, reopen=lambda: io.BytesIO(data))


def file_signals(hashed: FileHashes) -> list[tuple[str, str]]:
    """Every signal computed for an uploaded file, as (name, hex)."""
    fields = hashed.as_fields()
    return [(s.name, fields[s.name]) for s in signals.all_signals() if fields.get(s.name)]


def file_matches(matches: list[Match], signal: str, confirmed: dict[int, str]) -> list[dict[str, Any]]:
    """`MatchOut`s of one signal of an uploaded file."""
    return [
        {
            "entry_id": m.entry_id,
            "distance": m.distance,
            "category": m.category,
            "series": m.series,
            "source": m.source,
            "last_confirmed": confirmed.get(m.entry_id),
        }
        for m in matches
        if m.signal == signal
    ]
