"""The API benchmark's floor: `POST /api/v1/lookup` on the same uvicorn + FastAPI stack, with the same body
parsing (vigil.server.body, orjson) and response encoding (orjson), a bearer-token check and no lookup —
what the HTTP stack and the body alone cost."""

from __future__ import annotations

import orjson
from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import Response

from vigil.server.body import BodyError, parse_lookup

app = FastAPI()


@app.get("/api/v1/ready")
def ready() -> dict[str, str]:
    return {"status": "ready"}


@app.post("/api/v1/lookup")
async def lookup(request: Request, authorization: str = Header(default="")) -> Response:
    if not authorization.startswith("Bearer "):
        raise HTTPException(401, "no key")
    try:
        parsed = parse_lookup(await request.body())
    except BodyError as exc:
        raise HTTPException(422, str(exc)) from None
    out = [{"signal": name, "value": value.hex(), "matches": []} for name, value in parsed]
    return Response(orjson.dumps({"results": out}), media_type="application/json")
