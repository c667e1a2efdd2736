"""End to end in Debian's chromium (Playwright, headless): an analyst attaches a real scan of benign
generated pictures, a reviewer grades it with the keyboard — thumbnails blurred by default, one revealed at
a time, a near-duplicate group graded in one go with shift-select — and a new scan started from the page
reports those pictures as known. A screenshot of the grid goes to the test's folder and, if set, to
$VIGIL_TEST_ARTIFACTS."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.harness import PASSWORD, Site, build_site, serve, sighting_of

pytest.importorskip("playwright")
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
SERIES = ("base", "dup_jpeg", "dup_small", "dup_bright")


@pytest.fixture
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make deps)", pytrace=False)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def log_in(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.fill('input[name="name"]', name)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    expect(page.locator(".who")).to_contain_text(name)


def log_out(page: Page) -> None:
    page.click("form.logout button")
    expect(page).to_have_url(re.compile(r"/login$"))


def tile(page: Page, item_id: int) -> object:
    return page.locator(f'.tile[data-item="{item_id}"]')


def thumb_filter(page: Page, item_id: int) -> str:
    return str(
        page.evaluate(
            "id => getComputedStyle(document.querySelector(`.tile[data-item='${id}'] img.thumb`)).filter",
            item_id,
        )
    )


def wait_filter(page: Page, item_id: int, blurred: bool) -> str:
    page.wait_for_function(
        "([id, blurred]) => getComputedStyle(document.querySelector(`.tile[data-item='${id}'] img.thumb`))"
        ".filter.includes('blur') === blurred",
        arg=[item_id, blurred],
    )
    return thumb_filter(page, item_id)


def caption(page: Page, item_id: int) -> object:
    return page.locator(f"#cap-{item_id}")


@pytest.mark.slow
def test_grading_in_the_browser(chromium: Browser, sqlite_url: str, tmp_path: Path) -> None:
    site: Site = build_site(sqlite_url, tmp_path, attach=False, env={"VIGIL_REVIEW_VOTES": "1"})
    with serve(site) as served:
        base = served.base
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        context.clock.install()  # time runs as usual; fast_forward skips ahead (heartbeats every 30 s)
        page = context.new_page()
        requests: list[str] = []
        problems: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)

        # The analyst attaches the finished scan folder for review.
        log_in(page, base, "anna")
        page.goto(f"{base}/scans")
        page.fill('form[action="/scans/attach"] input[name="folder"]', str(site.out))
        page.click('form[action="/scans/attach"] button')
        expect(page).to_have_url(f"{base}/scans/{site.scan_id}")
        expect(page.locator("body")).to_contain_text("items wait for grading")
        log_out(page)

        # The reviewer opens the scan's queue: every thumbnail loads blurred and greyscale.
        log_in(page, base, "rita")
        page.click('nav a[href="/review"]')
        page.click(f'a[href="/review/scan/{site.scan_id}"]')
        series = [sighting_of(site, site.files[k]).item_id for k in SERIES]
        singles = [sighting_of(site, site.files[f"other{i}"]).item_id for i in range(4)]
        expect(page.locator(".tile")).to_have_count(8)
        page.wait_for_function(
            "() => [...document.querySelectorAll('img.thumb')].every(i => i.complete && i.naturalWidth > 0)"
        )
        for item in series + singles:
            style = thumb_filter(page, item)
            assert "blur" in style and "grayscale" in style, (item, style)
        group = page.locator(".group", has=page.locator(f'.tile[data-item="{series[0]}"]'))
        expect(group.locator(".tile")).to_have_count(4)
        # A minute on the page: heartbeats count the time in the queue.
        page.clock.fast_forward(61_000)
        expect(page.locator("#exposure .minutes")).to_have_text("1")

        # Reveal one by click: unblurred (still greyscale) while shown, blurred again on leaving it.
        first = singles[0]
        tile(page, first).locator(".pics").click()
        assert "blur" not in wait_filter(page, first, blurred=False)
        expect(page.locator("#exposure .reveals")).to_have_text("1")
        page.mouse.move(5, 5)
        assert "blur" in wait_filter(page, first, blurred=True)
        # ... and with the space bar, one at a time.
        tile(page, first).locator("figcaption").click()
        page.keyboard.press("Space")
        wait_filter(page, first, blurred=False)
        page.keyboard.press("Space")
        wait_filter(page, first, blurred=True)
        expect(page.locator("#exposure .reveals")).to_have_text("2")

        # Grade singles with the keyboard: C on the focused tile, then the arrows, then N.
        page.keyboard.press("c")
        expect(caption(page, first)).to_have_attribute("data-mine", "C")
        tile(page, singles[1]).locator("figcaption").click()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowLeft")
        assert page.evaluate("document.activeElement.dataset.item") == str(singles[1])
        page.keyboard.press("n")
        expect(caption(page, singles[1])).to_have_attribute("data-mine", "N")
        focused = int(page.evaluate("document.activeElement.dataset.item"))
        assert focused not in (first, singles[1])  # focus moved on to an ungraded tile

        # The near-duplicate series in one go: click its first tile, shift-click its last, series tag, B.
        tiles = group.locator(".tile")
        tiles.first.locator("figcaption").click()
        tiles.last.locator("figcaption").click(modifiers=["Shift"])
        expect(group.locator(".tile.selected")).to_have_count(4)
        expect(page.locator("#selected-count")).to_have_text("4")
        page.fill('#grade-form input[name="series"]', "S-9")
        page.keyboard.press("Escape")
        expect(group.locator(".tile.selected")).to_have_count(4)
        page.keyboard.press("b")
        for item in series:
            expect(caption(page, item)).to_have_attribute("data-mine", "B")
        expect(page.locator("#grade-result")).to_contain_text("Graded 4 item(s) as B")
        for item in series + singles:
            assert "blur" in thumb_filter(page, item)

        shot = tmp_path / "grading-grid.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        artifacts = os.environ.get("VIGIL_TEST_ARTIFACTS")
        if artifacts:
            Path(artifacts).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(artifacts) / "grading-grid.png")

        # Settings: greyscale off and a break after 4 reveals; a revealed picture then has no filter.
        page.click('nav a[href="/settings"]')
        page.uncheck('input[name="greyscale"]')
        page.fill('input[name="break_after_reveals"]', "4")
        page.click('form[action="/settings"] button')
        expect(page.locator(".saved")).to_be_visible()
        page.goto(f"{base}/review/scan/{site.scan_id}")
        left = singles[2]
        assert thumb_filter(page, left).startswith("blur(") and "grayscale" not in thumb_filter(page, left)
        tile(page, left).locator(".pics").click()
        assert wait_filter(page, left, blurred=False) == "none"
        expect(page.locator("#exposure .reveals")).to_have_text("3")
        page.mouse.move(5, 5)
        wait_filter(page, left, blurred=True)
        last = singles[3]
        tile(page, last).locator(".pics").click()
        expect(page.locator("#break")).to_be_visible()  # the fourth reveal today: time for a break
        expect(page.locator("#break .why")).to_contain_text("4 pictures revealed")
        wait_filter(page, last, blurred=True)  # the prompt takes the focus: the picture blurs again
        page.click("#break button[type=submit]")
        expect(page.locator("#break")).to_be_hidden()
        expect(page.locator("#exposure")).to_have_attribute("data-due", "0")

        # Reveal on hover, when the reviewer asks for it: shown while the pointer rests, blurred after.
        page.click('nav a[href="/settings"]')
        page.check('input[name="reveal_on_hover"]')
        page.click('form[action="/settings"] button')
        expect(page.locator(".saved")).to_be_visible()
        page.goto(f"{base}/review/scan/{site.scan_id}")
        assert "blur" in thumb_filter(page, left)
        tile(page, left).locator(".pics").hover()
        assert wait_filter(page, left, blurred=False) == "none"
        page.mouse.move(5, 5)
        wait_filter(page, left, blurred=True)
        log_out(page)

        # A new scan of the folder, started from the page: the graded pictures are known now.
        log_in(page, base, "anna")
        page.goto(f"{base}/scans")
        page.fill('form[action="/scans"] textarea[name="evidence"]', str(site.evidence))
        page.click('form[action="/scans"] button')
        expect(page.locator("#job")).to_have_attribute("data-state", "done", timeout=120_000)
        page.click("#job a.scan-link")
        for key in (*SERIES, "other0", "other1"):
            row = page.locator(f'tr[data-path="{site.files[key]}"]')
            expect(row.locator(".verdict")).to_have_text("known")
        for key in ("other2", "other3"):
            expect(page.locator(f'tr[data-path="{site.files[key]}"] .verdict')).to_have_text("unknown")
        context.close()

    assert all(u.startswith(base) for u in requests), [u for u in requests if not u.startswith(base)]
    assert not problems, problems
