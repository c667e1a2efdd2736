"""Readiness: `/api/v1/ready` answers 200 only once the snapshot can answer lookups at full speed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.exchange.formats import fake_hash
from tests.server.serving import auth, create_key, run
from vigil.config import Settings
from vigil.server.api import snapshot
from vigil.server.app import create_app


def test_ready_waits_for_the_entry_times(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    md5 = fake_hash("md5", "ready").hex()
    (tmp_path / "k.csv").write_text(f"md5,category\n{md5},A\n")
    assert run(sqlite_url, "import", str(tmp_path / "k.csv"), "--format", "csv")[0] == 0
    key = create_key(sqlite_url, "platform", "lookup")
    gate = threading.Event()
    read = snapshot.entry_times

    def slow_read(session: Session) -> object:  # a big store: the read takes a while
        gate.wait(30)
        return read(session)

    monkeypatch.setattr(snapshot, "entry_times", slow_read)
    with TestClient(create_app(Settings(db=sqlite_url))) as client:
        waiting = client.get("/api/v1/ready")
        assert waiting.status_code == 503
        assert "last confirmed" in waiting.json()["reason"]
        # Lookups are answered meanwhile (the times then come from the store a request at a time).
        body = {"hashes": [{"signal": "md5", "value": md5}]}
        early = client.post("/api/v1/lookup", json=body, headers=auth(key)).json()
        gate.set()
        ready = client.get("/api/v1/ready")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        late = client.post("/api/v1/lookup", json=body, headers=auth(key)).json()
    [match] = early["results"][0]["matches"]
    assert match["category"] == "A" and match["last_confirmed"]
    assert late == early
