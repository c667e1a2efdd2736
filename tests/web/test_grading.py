"""Grading over HTTP against a real `vigil serve`: the queue (similar first, near-duplicates grouped),
bulk and single grades, consensus and arbitration, wellness counters and settings, hash-only platform
submissions, video frame strips, and a scan started from the page. The grading flow runs on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from tests.web.harness import (
    Browser,
    Served,
    Site,
    build_site,
    groups,
    item_ids,
    run,
    scan,
    serve,
    sighting_of,
    thumb_urls,
)
from vigil.store import audit
from vigil.store.models import Audit, ReviewItem, Submission

JPEG = b"\xff\xd8\xff"
SERIES = ("base", "dup_jpeg", "dup_small", "dup_bright")


def actions(site: Site, action: str) -> list[Audit]:
    with site.store() as store, store.session() as session:
        return list(session.scalars(select(Audit).where(Audit.action == action).order_by(Audit.id)))


def status_of(site: Site, item_id: int) -> str:
    with site.store() as store, store.session() as session:
        row = session.get(ReviewItem, item_id)
        assert row is not None
        return row.status


def test_grading_flow(any_db_url: str, tmp_path: Path) -> None:
    site = build_site(any_db_url, tmp_path, similar=("other3",), env={"VIGIL_REVIEW_VOTES": "1"})
    series = [sighting_of(site, site.files[k]).item_id for k in SERIES]
    similar = sighting_of(site, site.files["other3"]).item_id
    single = sighting_of(site, site.files["other0"]).item_id
    with serve(site) as served:
        rita = Browser(served.base).login("rita")
        page = rita.get(f"/review/scan/{site.scan_id}")
        assert page.status_code == 200
        found = groups(page.text)
        assert found[0] == [similar], "the similar item's group comes first"
        assert sorted(series) in [sorted(g) for g in found], found
        assert sorted(item_ids(page.text)) == sorted(s for g in found for s in g)
        assert 'class="badge verdict-similar"' in re.split(r'<div class="group(?= |")', page.text)[1]
        for url in thumb_urls(page.text):
            r = rita.get(url)
            assert r.status_code == 200 and r.content.startswith(JPEG), url
        # The near-duplicate series in one go, then one item with tags and notes.
        r = rita.htmx("/review/grade", {"item": [str(i) for i in series], "category": "B", "series": "S-1"})
        assert r.status_code == 200 and "Graded 4 item(s) as B" in r.text
        assert len(re.findall(r'data-status="trusted" data-mine="B" hx-swap-oob="true"', r.text)) == 4
        r = rita.htmx(
            "/review/grade",
            {"item": str(single), "category": "c", "victim_identified": "1", "notes": "synthetic note"},
        )
        assert r.status_code == 200 and "as C" in r.text
        # Bad grades are refused with a reason and change nothing.
        assert rita.htmx("/review/grade", {"item": str(similar), "category": "Z"}).status_code == 422
        assert rita.htmx("/review/grade", {"item": "abc", "category": "A"}).status_code == 422
        assert rita.htmx("/review/grade", {"category": "A"}).status_code == 422
        assert status_of(site, similar) == "open"
        # Graded items have left everyone's queue (one trusted vote suffices here).
        for name in ("rita", "rob"):
            left = item_ids(Browser(served.base).login(name).get(f"/review/scan/{site.scan_id}").text)
            assert not {*series, single} & set(left) and similar in left
    assert all(status_of(site, i) == "trusted" for i in [*series, single])
    assert len(actions(site, "review.grade")) == 5 and actions(site, "review.view")
    # A new scan of the same folder: what was graded is known now, with its grade and series.
    out = tmp_path / "scans" / "again"
    scan(site.db, site.evidence, out)
    records = {r["path"]: r for r in map(json.loads, (out / "items.jsonl").read_text().splitlines())}
    for key in SERIES:
        rec = records[str(site.files[key])]
        assert rec["verdict"] == "known", key
        assert {m["category"] for m in rec["matches"]} == {"B"} and {m["series"] for m in rec["matches"]} == {
            "S-1"
        }
    assert records[str(site.files["other0"])]["verdict"] == "known"
    assert records[str(site.files["other1"])]["verdict"] == "unknown"
    assert audit.verify(site.store()).ok


def test_disagreement_goes_to_arbitration(site: Site) -> None:
    item = sighting_of(site, site.files["other1"]).item_id
    with serve(site, VIGIL_REVIEW_VOTES="2") as served:
        rita, rob, ada = (Browser(served.base).login(n) for n in ("rita", "rob", "ada"))
        assert rita.htmx("/review/grade", {"item": str(item), "category": "X"}).status_code == 200
        assert status_of(site, item) == "open"
        # A second vote by the same reviewer is skipped with the reason.
        again = rita.htmx("/review/grade", {"item": str(item), "category": "X"})
        assert again.status_code == 200 and "voted on review item" in again.text
        assert rob.htmx("/review/grade", {"item": str(item), "category": "N"}).status_code == 200
        assert status_of(site, item) == "arbitration"
        page = ada.get("/arbitration")
        assert page.status_code == 200 and f'id="dispute-{item}"' in page.text
        assert "rita" in page.text and "rob" in page.text
        assert ada.form(f"/arbitration/{item}", {"category": "Q"}).status_code == 422
        r = ada.form(f"/arbitration/{item}", {"category": "X", "notes": "decided"})
        assert r.status_code == 303 and r.headers["location"] == f"/arbitration?decided={item}"
        assert status_of(site, item) == "trusted"
        assert f'id="dispute-{item}"' not in ada.get("/arbitration").text
        # Deciding twice is refused.
        assert ada.form(f"/arbitration/{item}", {"category": "N"}).status_code == 422
    [decision] = actions(site, "review.arbitrate")
    assert decision.actor == "user:ada" and decision.target == f"review_item:{item}"


def exposure(html: str) -> dict[str, str]:
    found = re.search(
        r'data-due="(\d)" data-why="([^"]*)">.*?class="reveals">(\d+)<.*?class="minutes">(\d+)<', html, re.S
    )
    assert found, html[:500]
    return {
        "due": found.group(1),
        "why": found.group(2),
        "reveals": found.group(3),
        "minutes": found.group(4),
    }


def test_wellness_counters_breaks_settings_and_team_view(site: Site, server: Served) -> None:
    rita, ada = Browser(server.base).login("rita"), Browser(server.base).login("ada")
    page = rita.get(f"/review/scan/{site.scan_id}")
    assert 'class="pref-blur pref-grey' in page.text
    assert exposure(page.text) == {"due": "0", "why": "", "reveals": "0", "minutes": "0"}
    assert (
        rita.form("/settings", {"blur": "1", "greyscale": "1", "break_after_reveals": "2"}).status_code == 303
    )
    ids = item_ids(page.text)
    first = exposure(rita.htmx("/review/reveal", {"item": str(ids[0])}).text)
    assert first["reveals"] == "1" and first["due"] == "0"
    second = exposure(rita.htmx("/review/reveal", {"item": str(ids[1])}).text)
    assert second["due"] == "1" and "2 pictures revealed" in second["why"]
    assert exposure(rita.htmx("/wellness/break").text)["due"] == "0"
    assert exposure(rita.htmx("/wellness/heartbeat", {"seconds": "90"}).text)["minutes"] == "1"
    assert rita.htmx("/wellness/heartbeat", {"seconds": "many"}).status_code == 422
    assert rita.htmx("/wellness/heartbeat", {"seconds": "100000"}).status_code == 422
    assert rita.htmx("/review/reveal", {"item": "999999"}).status_code == 404
    # Settings: validated, audited, and they change how the page renders.
    assert rita.form("/settings", {"break_after_minutes": "-5"}).status_code == 422
    assert rita.form("/settings", {"greyscale": "1", "break_after_reveals": "2"}).status_code == 303
    assert 'class=" pref-grey' in rita.get(f"/review/scan/{site.scan_id}").text
    assert 'name="blur" value="1">' in rita.get("/settings").text  # unchecked now
    changes = [json.loads(a.details or "{}")["changes"] for a in actions(site, "review.settings")]
    assert changes[-1]["blur"] is False
    # The team view: totals per person and day, never which pictures.
    team = ada.get("/admin/wellness")
    assert team.status_code == 200
    row = re.search(r'<tr data-user="rita">(.*?)</tr>', team.text, re.S)
    assert row and '<td class="reveals">2</td>' in row.group(1)
    assert str(site.evidence) not in team.text and "review_item" not in team.text
    assert len(actions(site, "review.reveal")) == 2


def test_platform_submissions_are_hash_only(site: Site, server: Served) -> None:
    code, out, err = run(site.db, "--json", "apikey", "create", "platform", "--scopes", "submit")
    assert code == 0, err
    key = json.loads(out)["key"]
    md5, sha1 = "0123456789abcdef" * 2, "fedcba9876543210fedc" * 2
    body = {
        "kind": "suspected",
        "hashes": [{"signal": "md5", "value": md5}, {"signal": "sha1", "value": sha1}],
        "platform": "example-platform",
        "reporter_ref": "R-77",
        "location": "https://platform.example/u/123",
        "media_type": "image/jpeg",
    }
    r = httpx.post(f"{server.base}/api/v1/submit", json=body, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 202, r.text
    rita = Browser(server.base).login("rita")
    page = rita.get("/review/submissions")
    assert page.status_code == 200
    tile = re.search(r'<figure class="tile"[^>]*data-kind="hashes".*?</figure>', page.text, re.S)
    assert tile, page.text[:2000]
    assert md5 in tile.group(0) and sha1 in tile.group(0) and "example-platform" in tile.group(0)
    assert "R-77" in tile.group(0) and "<img" not in tile.group(0)
    assert '<a href="https://platform.example' not in page.text  # the location is text, never a link
    [item] = item_ids(page.text)
    assert rita.htmx("/review/grade", {"item": str(item), "category": "G"}).status_code == 200
    with site.store() as store, store.session() as session:
        assert [s.status for s in session.scalars(select(Submission))] == ["pending"]  # 1 of 3 votes


def test_video_items_show_a_frame_strip(sqlite_url: str, tmp_path: Path) -> None:
    site = build_site(sqlite_url, tmp_path, video=True)
    video = sighting_of(site, site.files["video"])
    with serve(site) as served:
        rita = Browser(served.base).login("rita")
        page = rita.get(f"/review/scan/{site.scan_id}")
        base = f"/review/item/{video.item_id}/sighting/{video.scan_item_id}"
        frames = [u for u in thumb_urls(page.text) if u.startswith(base)]
        assert frames == [f"{base}/frame/{k}" for k in range(4)]
        assert "<video" not in page.text and "autoplay" not in page.text
        bodies = [rita.get(u) for u in frames]
        assert all(b.status_code == 200 and b.content.startswith(JPEG) for b in bodies)
        assert len({b.content for b in bodies}) == 4  # different moments of the video
        assert rita.get(f"{base}/frame/4").status_code == 404
        picture = sighting_of(site, site.files["other0"])
        assert (
            rita.get(f"/review/item/{picture.item_id}/sighting/{picture.scan_item_id}/frame/0").status_code
            == 404
        )


def test_scan_started_from_the_page(site: Site, server: Served) -> None:
    anna = Browser(server.base).login("anna")
    r = anna.form("/scans", {"evidence": f"{site.evidence}/misc\n{site.evidence}/series", "case": "CASE-7"})
    assert r.status_code == 303 and r.headers["location"].startswith("/scans/jobs/")
    job_url = r.headers["location"]
    deadline = time.monotonic() + 120
    while True:
        page = anna.get(job_url, headers={"HX-Request": "true"})
        state = re.search(r'data-state="(\w+)"', page.text)
        assert state, page.text
        if state.group(1) != "running":
            break
        assert time.monotonic() < deadline, page.text
        time.sleep(0.3)
    assert state.group(1) == "done", page.text
    scan_id = int(re.search(r'href="/scans/(\d+)"', page.text).group(1))
    # The job attached the scan for review; it is on the analyst's list and in the reviewer's queue.
    for _ in range(50):
        scan_page = anna.get(f"/scans/{scan_id}")
        if "items wait for grading" in scan_page.text:
            break
        time.sleep(0.1)
    assert "CASE-7" in scan_page.text and "items wait for grading" in scan_page.text
    queue = Browser(server.base).login("rita").get(f"/review/scan/{scan_id}")
    assert len(item_ids(queue.text)) == 8
    [start] = actions(site, "scan.start")
    assert start.actor == "user:anna" and json.loads(start.details or "{}")["case"] == "CASE-7"
    assert any(
        a.actor == "user:anna" and a.target == f"scan:{scan_id}" for a in actions(site, "review.attach")
    )
    out = site.data_dir / "scans" / job_url.rsplit("/", 1)[1]
    assert (out / "items.jsonl").is_file() and (out / "report.html").is_file()
