"""One uploaded file, read from a multipart/form-data body into memory only (python-multipart's streaming
parser). Starlette's own form parsing spools uploads over 1 MB to a temporary file on disk; the matching API
promises platforms that vigil keeps nothing of what they send, so the bytes never leave this process's
memory and are dropped when the request ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header


class UploadError(ValueError):
    """The body is not a usable upload; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass
class Upload:
    filename: str
    content_type: str | None
    data: bytes


async def read_upload(
    content_type: str | None, body: AsyncIterator[bytes], *, field: str, max_bytes: int
) -> Upload:
    """The part named `field` of a multipart body; other parts are ignored (and not kept)."""
    kind, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UploadError(422, f"send the file as multipart/form-data in a field named {field!r}")

    parts: list[Upload] = []
    state: dict[str, object] = {}
    header_name = bytearray()
    header_value = bytearray()
    headers: dict[bytes, bytes] = {}
    chunks: list[bytes] = []
    size = 0

    def on_part_begin() -> None:
        headers.clear()
        chunks.clear()
        state["wanted"] = False

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_name.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        headers[bytes(header_name).lower()] = bytes(header_value)
        header_name.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        _disp, params = parse_options_header(headers.get(b"content-disposition", b""))
        state["wanted"] = params.get(b"name") == field.encode() and not parts
        state["filename"] = params.get(b"filename", b"").decode("utf-8", "replace")
        state["type"] = headers.get(b"content-type", b"").decode("latin-1") or None

    def on_part_data(data: bytes, start: int, end: int) -> None:
        nonlocal size
        if state.get("wanted"):
            size += end - start
            if size > max_bytes:
                raise UploadError(413, f"the file is over {max_bytes} bytes")
            chunks.append(bytes(data[start:end]))

    def on_part_end() -> None:
        if state.get("wanted"):
            parts.append(Upload(str(state["filename"]), state["type"], b"".join(chunks)))  # type: ignore[arg-type]
            chunks.clear()

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
        },
    )
    try:
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        raise UploadError(422, f"malformed multipart body: {exc}") from None
    if not parts:
        raise UploadError(422, f"no file in a field named {field!r}")
    if not parts[0].data:
        raise UploadError(422, "the file is empty")
    return parts[0]
