"""lookup/file, submit, per-call audit, rate limits shared by workers, and graceful shutdown — against a
real `vigil serve` (two uvicorn workers) on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.imagegen import make_image
from tests.server.serving import auth, create_key, run, serving
from tests.videogen import make_video
from vigil.hashing import hash_file
from vigil.media import DecodeLimits
from vigil.store import Store
from vigil.store.models import Entry, Submission

UPLOAD_LIMIT = 3 << 20


def known_csv(paths: list[Path], out: Path) -> Path:
    lines = ["md5,sha1,sha256,pdq,pdq_quality,vpdq,category,series"]
    for i, path in enumerate(paths):
        f = hash_file(str(path), DecodeLimits()).as_fields()
        lines.append(
            ",".join(
                [
                    f["md5"],
                    f["sha1"],
                    f["sha256"],
                    f["pdq"] or "",
                    str(f["pdq_quality"] or ""),
                    f["vpdq"] or "",
                ]
            )
            + f",B,series-{i}"
        )
    out.write_text("\n".join(lines) + "\n")
    return out


@pytest.fixture
def api(any_db_url: str, tmp_path: Path) -> Iterator[dict]:
    db = any_db_url
    media = tmp_path / "media"
    image = make_image(media / "a.jpg", "shapes", seed=11, size=(640, 480), quality=90)
    video = make_video(media / "v.mp4", seed=4, seconds=4)
    code, _, err = run(
        db, "import", str(known_csv([image, video], tmp_path / "known.csv")), "--format", "csv"
    )
    assert code == 0, err
    keys = {
        "platform": create_key(db, "platform", "lookup,submit"),
        "reader": create_key(db, "reader", "lookup"),
        "slow": create_key(db, "slow", "lookup", rate=5),
    }
    tmpdir = tmp_path / "server-tmp"
    tmpdir.mkdir()
    env = {"VIGIL_API_MAX_UPLOAD": str(UPLOAD_LIMIT), "TMPDIR": str(tmpdir)}
    with serving(db, workers=2, env=env) as served:
        yield {"base": served.base, "db": db, "keys": keys, "image": image, "video": video, "tmpdir": tmpdir}


def upload(api: dict, name: str, data: bytes, key: str = "platform") -> httpx.Response:
    return httpx.post(
        f"{api['base']}/api/v1/lookup/file",
        files={"file": (name, data, "application/octet-stream")},
        headers=auth(api["keys"][key]),
        timeout=60,
    )


def matches(body: dict, signal: str) -> list[dict]:
    return next(r["matches"] for r in body["results"] if r["signal"] == signal)


def test_lookup_file_hashes_in_memory_and_matches(api: dict, tmp_path: Path) -> None:
    r = upload(api, "a.jpg", api["image"].read_bytes())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["media_type"] == "image/jpeg" and body["error"] is None
    assert [m["series"] for m in matches(body, "md5")] == ["series-0"]
    [pdq] = matches(body, "pdq")
    assert pdq["distance"] == 0 and pdq["category"] == "B" and pdq["last_confirmed"]

    # The same picture turned 90 degrees and saved as PNG: no exact match, found by PDQ's rotations.
    turned = tmp_path / "turned.png"
    Image.open(api["image"]).rotate(90, expand=True).save(turned)
    body = upload(api, "turned.png", turned.read_bytes()).json()
    assert matches(body, "md5") == [] and matches(body, "sha256") == []
    [pdq] = matches(body, "pdq")
    assert pdq["series"] == "series-0" and pdq["distance"] <= 31

    # The known video, uploaded: vPDQ's two-way frame match.
    body = upload(api, "v.mp4", api["video"].read_bytes()).json()
    assert body["media_type"].startswith("video/")
    [vpdq] = matches(body, "vpdq")
    assert vpdq["series"] == "series-1"

    # A damaged image still gets its exact hashes, and says why there is no PDQ.
    body = upload(api, "broken.jpg", api["image"].read_bytes()[:3000]).json()
    assert body["error"] and matches(body, "md5") == []
    assert "pdq" not in [r["signal"] for r in body["results"]]

    # Nothing of the uploads was written anywhere the server could spill to.
    assert list(api["tmpdir"].iterdir()) == []


def test_lookup_file_refuses_bad_uploads(api: dict) -> None:
    url = f"{api['base']}/api/v1/lookup/file"
    key = auth(api["keys"]["platform"])
    assert httpx.post(url, files={"file": ("a", b"x")}).status_code == 401
    r = httpx.post(url, json={"hashes": []}, headers=key)
    assert r.status_code == 422 and "multipart/form-data" in r.text
    r = httpx.post(url, files={"other": ("a.jpg", b"abc")}, headers=key)
    assert r.status_code == 422 and "'file'" in r.text
    r = httpx.post(url, files={"file": ("a.jpg", b"")}, headers=key)
    assert r.status_code == 422 and "empty" in r.text
    big = b"\0" * (UPLOAD_LIMIT + 10)
    r = httpx.post(url, files={"file": ("big.bin", big)}, headers=key)
    assert r.status_code == 413 and str(UPLOAD_LIMIT) in r.text

    # Chunked, with no Content-Length to refuse it by: counted as it arrives.
    def chunks() -> Iterator[bytes]:
        boundary = b"--xyz\r\n"
        yield boundary + b'Content-Disposition: form-data; name="file"; filename="b.bin"\r\n\r\n'
        for _ in range(8):
            yield b"\1" * (1 << 20)
        yield b"\r\n--xyz--\r\n"

    r = httpx.post(
        url,
        content=chunks(),
        headers={**key, "content-type": "multipart/form-data; boundary=xyz"},
        timeout=60,
    )
    assert r.status_code == 413
    # And a JSON lookup sent chunked past the JSON limit is refused the same way.
    r = httpx.post(
        f"{api['base']}/api/v1/lookup",
        content=(b" " * (1 << 20) for _ in range(6)),
        headers={**key, "content-type": "application/json"},
    )
    assert r.status_code == 413


def test_submit_queues_for_review_and_makes_nothing_known(api: dict) -> None:
    base, db = api["base"], api["db"]
    url = f"{base}/api/v1/submit"
    known_md5 = hash_file(str(api["image"]), DecodeLimits()).digests["md5"].hex()
    with Store(db) as store, store.session() as session:
        entries_before = session.scalar(select(func.count()).select_from(Entry))
    r = httpx.post(
        url,
        json={
            "kind": "match",
            "hashes": [{"signal": "md5", "value": known_md5}],
            "reporter_ref": "ticket-881",
            "platform": "example.org",
            "reported_at": "2026-11-20T10:00:00Z",
            "location": "https://example.org/u/1/p/2",
        },
        headers=auth(api["keys"]["platform"]),
    )
    assert r.status_code == 202, r.text
    matched = r.json()
    assert matched["status"] == "pending" and matched["matched_entry_id"]
    new_sha1 = "ab" * 20
    r = httpx.post(
        url,
        json={
            "kind": "suspected",
            "hashes": [{"signal": "sha1", "value": new_sha1}, {"signal": "pdq", "value": "0f" * 32}],
        },
        headers=auth(api["keys"]["platform"]),
    )
    assert r.status_code == 202 and r.json()["matched_entry_id"] is None
    bad = [
        ({"kind": "maybe", "hashes": [{"signal": "md5", "value": known_md5}]}, 422),
        ({"kind": "suspected", "hashes": []}, 422),
        ({"kind": "suspected", "hashes": [{"signal": "md5", "value": "xyz"}]}, 422),
        ({"kind": "suspected", "hashes": [{"signal": "md5", "value": known_md5}] * 2}, 422),
    ]
    for body, status in bad:
        assert httpx.post(url, json=body, headers=auth(api["keys"]["platform"])).status_code == status, body
    assert httpx.post(url, json=bad[0][0], headers=auth(api["keys"]["reader"])).status_code == 403

    with Store(db) as store, store.session() as session:
        rows = session.scalars(select(Submission).order_by(Submission.id)).all()
        assert [(s.kind, s.status) for s in rows] == [("match", "pending"), ("suspected", "pending")]
        assert rows[0].entry_id == matched["matched_entry_id"] and rows[0].reporter_ref == "ticket-881"
        assert rows[0].location == "https://example.org/u/1/p/2" and rows[0].reported_at is not None
        assert rows[1].hashes == {"sha1": new_sha1, "pdq": "0f" * 32}
        assert session.scalar(select(func.count()).select_from(Entry)) == entries_before
    # The suspected hash is not known to a lookup.
    r = httpx.post(
        f"{base}/api/v1/lookup",
        json={"hashes": [{"signal": "sha1", "value": new_sha1}]},
        headers=auth(api["keys"]["platform"]),
    )
    assert r.json()["results"][0]["matches"] == []


def test_every_call_is_audited_without_results(api: dict) -> None:
    base, db, key = api["base"], api["db"], auth(api["keys"]["platform"])
    httpx.post(
        f"{base}/api/v1/lookup", json={"hashes": [{"signal": "md5", "value": "00" * 16}] * 3}, headers=key
    )
    upload(api, "a.jpg", api["image"].read_bytes())
    httpx.post(
        f"{base}/api/v1/submit",
        json={"kind": "suspected", "hashes": [{"signal": "md5", "value": "11" * 16}]},
        headers=key,
    )
    deadline = time.monotonic() + 10
    while True:
        code, out, _ = run(db, "--json", "audit", "list", "--last", "100")
        rows = json.loads(out)
        actions = [(r["actor"], r["action"]) for r in rows]
        if all(("apikey:platform", a) in actions for a in ("api.lookup", "api.lookup_file", "api.submit")):
            break
        assert time.monotonic() < deadline, actions
        time.sleep(0.3)
    lookup = next(r for r in rows if r["action"] == "api.lookup")
    assert lookup["details"] == {"hashes": 3, "matched": 0}
    filed = next(r for r in rows if r["action"] == "api.lookup_file")
    assert filed["details"]["matched"] == 1 and filed["details"]["media_type"] == "image/jpeg"
    assert "00" * 16 not in out  # counts, not the hashes or their results
    code, out, _ = run(db, "--json", "audit", "verify")
    assert code == 0 and json.loads(out)["ok"]


def test_rate_limit_is_shared_by_the_workers(api: dict) -> None:
    """5 requests/s for the key across both worker processes: a burst from many connections gets at most
    the bucket plus what refills while it runs, not twice that."""
    url, key = f"{api['base']}/api/v1/lookup", auth(api["keys"]["slow"])
    body = {"hashes": [{"signal": "md5", "value": "00" * 16}]}
    start = time.monotonic()
    with ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(lambda _: httpx.post(url, json=body, headers=key).status_code, range(60)))
    elapsed = time.monotonic() - start
    ok = codes.count(200)
    assert codes.count(429) == len(codes) - ok
    assert 5 <= ok <= 5 + 5 * elapsed + 1, (ok, elapsed)


def test_graceful_shutdown_finishes_requests_and_flushes_the_audit(sqlite_url: str, tmp_path: Path) -> None:
    big = make_image(tmp_path / "big.png", "noise", seed=3, size=(4000, 3000))
    key = create_key(sqlite_url, "p", "lookup")
    result: dict[str, httpx.Response] = {}
    with serving(sqlite_url) as served:

        def call() -> None:
            result["r"] = httpx.post(
                f"{served.base}/api/v1/lookup/file",
                files={"file": ("big.png", big.read_bytes())},
                headers=auth(key),
                timeout=60,
            )

        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(0.4)  # the upload is in and being hashed
        status = served.stop()
        caller.join()
    assert status in (0, -15)
    assert result["r"].status_code == 200 and result["r"].json()["media_type"] == "image/png"
    _, out, _ = run(sqlite_url, "--json", "audit", "list")
    assert [r["action"] for r in json.loads(out)] == ["apikey.create", "api.lookup_file"]
