"""The matching API's request and response bodies (pydantic), as its OpenAPI schema shows them.

`LOOKUP_BODY` and `FILE_BODY` describe the two lookup bodies for the schema only: the routes read them
themselves (vigil.server.body for a lookup's hashes, vigil.server.upload for a file), faster than pydantic.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from vigil.server.body import MAX_HASHES


class HashIn(BaseModel):
    signal: str = Field(description="md5, sha1, sha256 or pdq")
    value: str = Field(description="the hash in hex")


class LookupIn(BaseModel):
    hashes: list[HashIn] = Field(max_length=MAX_HASHES)


COMPONENT = "#/components/schemas/{model}"
# The lookup body as the OpenAPI schema shows it (the endpoint parses it with vigil.server.body).
LOOKUP_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    k: v
                    for k, v in LookupIn.model_json_schema(ref_template=COMPONENT).items()
                    if k != "$defs"  # HashIn is in the components already (SubmitIn uses it)
                }
            }
        },
    }
}
# One file as multipart field `file` (the endpoint streams it through vigil.server.upload).
FILE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


class MatchOut(BaseModel):
    entry_id: int
    distance: int
    category: str | None
    series: str | None
    source: str | None
    last_confirmed: str | None


class ResultOut(BaseModel):
    signal: str
    value: str
    matches: list[MatchOut]


class LookupOut(BaseModel):
    results: list[ResultOut]


class FileLookupOut(BaseModel):
    media_type: str
    size: int
    error: str | None = Field(description="why a signal could not be computed (e.g. a damaged image)")
    results: list[ResultOut]


class SubmitIn(BaseModel):
    kind: Literal["match", "suspected"] = Field(
        description="match: the platform found a known item; suspected: a new item it suspects"
    )
    hashes: list[HashIn] = Field(min_length=1, max_length=10)
    reporter_ref: str | None = Field(default=None, max_length=200, description="the platform's own reference")
    platform: str | None = Field(default=None, max_length=200)
    reported_at: datetime | None = Field(default=None, description="when the platform saw it (ISO 8601)")
    location: str | None = Field(default=None, max_length=2000, description="URL or path where it was seen")
    media_type: str | None = Field(default=None, max_length=100)
    notes: str | None = Field(default=None, max_length=4000)


class SubmitOut(BaseModel):
    id: int
    status: str
    matched_entry_id: int | None


class ChangeOut(BaseModel):
    seq: int
    entry_id: int
    kind: str
    created_at: str
    category: str | None
    status: str


class ChangesOut(BaseModel):
    changes: list[ChangeOut]
    next_since: int | None = Field(description="pass as `since` for the next page; null when done")
