"""The matching API against a real `vigil serve` process on 127.0.0.1 (httpx), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.exchange.formats import fake_hash
from tests.server.serving import auth, run, serving

PDQ = np.random.default_rng(5).integers(0, 256, (3, 32), dtype=np.uint8)


def near(row: np.ndarray, bits: int) -> str:
    flipped = np.unpackbits(row.copy())
    flipped[:bits] ^= 1
    return np.packbits(flipped).tobytes().hex()


@pytest.fixture
def server(any_db_url: str, tmp_path: Path) -> Iterator[dict[str, object]]:
    db = any_db_url
    rows = ["md5,sha1,pdq,pdq_quality,category,series"]
    for i in range(3):
        md5, sha1 = fake_hash("md5", str(i)).hex(), fake_hash("sha1", str(i)).hex()
        rows.append(f"{md5},{sha1},{PDQ[i].tobytes().hex()},90,A,s{i}")
    (tmp_path / "k.csv").write_text("\n".join(rows) + "\n")
    assert run(db, "import", str(tmp_path / "k.csv"), "--format", "csv")[0] == 0
    keys = {}
    for name, scopes, rate in (
        ("platform", "lookup,changes", "0"),
        ("slow", "lookup", "2"),
        ("feed", "changes", "0"),
    ):
        code, out, _ = run(db, "--json", "apikey", "create", name, "--scopes", scopes, "--rate-limit", rate)
        assert code == 0
        keys[name] = json.loads(out)["key"]
    with serving(db) as served:
        yield {"base": served.base, "keys": keys, "db": db}


def test_lookup_exact_and_perceptual_in_request_order(server: dict) -> None:
    base, key = server["base"], server["keys"]["platform"]
    body = {
        "hashes": [
            {"signal": "pdq", "value": near(PDQ[1], 9)},
            {"signal": "md5", "value": fake_hash("md5", "0").hex().upper()},
            {"signal": "sha1", "value": fake_hash("sha1", "nope").hex()},
            {"signal": "pdq", "value": np.random.default_rng(99).bytes(32).hex()},
        ]
    }
    r = httpx.post(f"{base}/api/v1/lookup", json=body, headers=auth(key))
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["signal"] for x in results] == ["pdq", "md5", "sha1", "pdq"]
    [pdq] = results[0]["matches"]
    assert pdq["distance"] == 9 and pdq["category"] == "A" and pdq["series"] == "s1" and pdq["last_confirmed"]
    [md5] = results[1]["matches"]
    assert md5["distance"] == 0 and md5["series"] == "s0"
    assert results[2]["matches"] == [] and results[3]["matches"] == []
    assert httpx.get(f"{base}/api/v1/docs").status_code == 200
    assert "/api/v1/lookup" in httpx.get(f"{base}/api/v1/openapi.json").json()["paths"]


def test_bad_requests_get_4xx_with_a_reason(server: dict) -> None:
    base, keys = server["base"], server["keys"]
    url = f"{base}/api/v1/lookup"
    one = {"hashes": [{"signal": "md5", "value": "00" * 16}]}
    assert httpx.post(url, json=one).status_code == 401
    assert httpx.post(url, json=one, headers=auth("vgl_wrong")).status_code == 401
    assert httpx.post(url, json=one, headers=auth(keys["feed"])).status_code == 403
    cases = [
        ({"hashes": [{"signal": "md5", "value": "zz" * 16}]}, "not hexadecimal"),
        ({"hashes": [{"signal": "md5", "value": "00" * 15}]}, "32 hex digits"),
        ({"hashes": [{"signal": "photodna", "value": "00"}]}, "unknown signal"),
        ({"hashes": [{"signal": "md5", "value": "00" * 16}] * 10_001}, "10000"),
        ({"nothing": []}, "hashes"),
    ]
    for body, reason in cases:
        r = httpx.post(url, json=body, headers=auth(keys["platform"]))
        assert r.status_code == 422 and reason in r.text, (reason, r.text[:300])
    big = b'{"hashes": [' + b" " * (5 << 20) + b"]}"
    r = httpx.post(url, content=big, headers={**auth(keys["platform"]), "content-type": "application/json"})
    assert r.status_code == 413


def test_rate_limit_answers_429_with_retry_after(server: dict) -> None:
    base, key = server["base"], server["keys"]["slow"]
    body = {"hashes": [{"signal": "md5", "value": "00" * 16}]}
    codes = [httpx.post(f"{base}/api/v1/lookup", json=body, headers=auth(key)) for _ in range(8)]
    limited = [r for r in codes if r.status_code == 429]
    assert limited and all(int(r.headers["retry-after"]) >= 1 for r in limited)
    assert sum(r.status_code == 200 for r in codes) >= 2
    time.sleep(1.1)
    assert httpx.post(f"{base}/api/v1/lookup", json=body, headers=auth(key)).status_code == 200


def test_changes_feed_pages_and_revocation(server: dict) -> None:
    base, keys, db = server["base"], server["keys"], server["db"]
    r = httpx.get(f"{base}/api/v1/changes", params={"since": 0, "limit": 2}, headers=auth(keys["feed"]))
    assert r.status_code == 200
    page = r.json()
    assert [c["seq"] for c in page["changes"]] == [1, 2] and page["next_since"] == 2
    r = httpx.get(f"{base}/api/v1/changes", params={"since": 2, "limit": 2}, headers=auth(keys["feed"]))
    assert [c["seq"] for c in r.json()["changes"]] == [3] and r.json()["next_since"] is None
    assert (
        httpx.get(f"{base}/api/v1/changes", params={"since": -1}, headers=auth(keys["feed"])).status_code
        == 422
    )
    assert run(str(db), "apikey", "revoke", "feed")[0] == 0
    deadline = time.monotonic() + 5  # the server rereads a key at most every KEY_TTL_S (1 s)
    while httpx.get(f"{base}/api/v1/changes", headers=auth(keys["feed"])).status_code != 401:
        assert time.monotonic() < deadline, "a revoked key still works"
        time.sleep(0.2)


def test_generated_requests_never_get_a_5xx(server: dict) -> None:
    """schemathesis against the served OpenAPI schema: whatever it sends, no server error."""
    schema = schemathesis.openapi.from_url(f"{server['base']}/api/v1/openapi.json")
    headers = auth(server["keys"]["platform"])
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/lookup", "/api/v1/changes", "/api/v1/health"}
    cases = st.one_of([op.as_strategy() for op in operations])

    @given(case=cases)
    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: schemathesis.Case) -> None:
        response = case.call(base_url=str(server["base"]), headers=headers, timeout=30)
        assert response.status_code < 500, (case.path, case.body, case.query, response.text[:300])

    check()


def test_store_changes_reach_a_running_server(server: dict, tmp_path: Path) -> None:
    """New and retracted entries are picked up while serving; lookups keep answering meanwhile."""
    base, key, db = server["base"], server["keys"]["platform"], server["db"]
    new_md5 = fake_hash("md5", "added later").hex()
    url = f"{base}/api/v1/lookup"
    body = {"hashes": [{"signal": "md5", "value": new_md5}]}

    def matched() -> bool:
        r = httpx.post(url, json=body, headers=auth(key))
        assert r.status_code == 200, r.text
        return bool(r.json()["results"][0]["matches"])

    assert not matched()
    (tmp_path / "more.csv").write_text(f"md5,category\n{new_md5},C\n")
    code, _, err = run(db, "import", str(tmp_path / "more.csv"), "--format", "csv")
    assert code == 0, err
    deadline = time.monotonic() + 30
    while not matched():
        assert time.monotonic() < deadline, "an imported hash never matched"
        time.sleep(0.3)
    time.sleep(1)  # the snapshot's entry times are read in the background: both ways give the same answer
    [match] = httpx.post(url, json=body, headers=auth(key)).json()["results"][0]["matches"]
    confirmed = datetime.fromisoformat(match["last_confirmed"])
    assert confirmed.tzinfo is not None and abs(datetime.now(UTC) - confirmed) < timedelta(minutes=2)
    assert match["category"] == "C"
    code, _, err = run(db, "retract", f"md5:{new_md5}")
    assert code == 0, err
    deadline = time.monotonic() + 30
    while matched():
        assert time.monotonic() < deadline, "a retracted hash kept matching"
        time.sleep(0.3)
