"""The API benchmark's floor: the same uvicorn + FastAPI + pydantic request and response models as
`POST /api/v1/lookup`, with a bearer-token check and no lookup — what the HTTP stack alone costs."""

from __future__ import annotations

from fastapi import FastAPI, Header, HTTPException

from vigil.server.api import LookupIn, LookupOut

app = FastAPI()


@app.get("/api/v1/ready")
def ready() -> dict[str, str]:
    return {"status": "ready"}


@app.post("/api/v1/lookup", response_model=LookupOut)
def lookup(body: LookupIn, authorization: str = Header(default="")) -> dict[str, object]:
    if not authorization.startswith("Bearer "):
        raise HTTPException(401, "no key")
    return {"results": [{"signal": h.signal, "value": h.value, "matches": []} for h in body.hashes]}
