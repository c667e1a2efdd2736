"""Logins, sessions, CSRF and lock-out against a real `vigil serve` (SQLite)."""

from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select, update

from tests.web.harness import PASSWORD, Browser, Served, Site, serve, sighting_of
from vigil.core.clock import as_utc
from vigil.store import audit
from vigil.store.models import Audit, ReviewVote, User, UserSession
from vigil.store.users import LOCK_AFTER, LOCK_BASE_S

GENERIC = "Wrong name or password, or the account is locked for a while."


def audit_rows(site: Site, action: str) -> list[Audit]:
    with site.store() as store, store.session() as session:
        return list(session.scalars(select(Audit).where(Audit.action == action).order_by(Audit.id)))


def user_row(site: Site, name: str) -> User:
    with site.store() as store, store.session() as session:
        row = session.scalar(select(User).where(User.name == name))
        assert row is not None
        return row


def test_login_sets_a_strict_http_only_cookie_and_stores_only_its_hash(site: Site, server: Served) -> None:
    browser = Browser(server.base)
    response = browser.try_login("rita", PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("vigil_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    token = browser.session_cookie
    assert token and len(token) >= 40
    with site.store() as store, store.session() as session:
        rows = session.scalars(select(UserSession)).all()
    assert [r.token_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert all(token not in (r.csrf_token, r.token_hash) for r in rows)
    [event] = audit_rows(site, "login")
    assert event.actor == "user:rita"
    assert audit.verify(site.store()).ok


def test_secure_cookie_unless_configured_off(site: Site) -> None:
    with serve(site, VIGIL_COOKIE_SECURE="true") as served:
        form = httpx.get(f"{served.base}/login")
        login_cookie = next(c for c in form.headers.get_list("set-cookie") if c.startswith("vigil_login="))
        assert "Secure" in login_cookie
        token = login_cookie.split(";")[0].split("=", 1)[1]
        # A client that sends Secure cookies over plain HTTP (httpx does not) gets in; the cookie is Secure.
        response = httpx.post(
            f"{served.base}/login",
            data={"name": "rita", "password": PASSWORD, "csrf_token": token},
            headers={"Cookie": f"vigil_login={token}"},
        )
    assert response.status_code == 303
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("vigil_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_next_only_leads_to_this_site(server: Served) -> None:
    browser = Browser(server.base)
    assert (
        browser.get("/review/scan/1?page=1").headers["location"]
        == "/login?next=%2Freview%2Fscan%2F1%3Fpage%3D1"
    )
    for target, lands in (
        ("/review/scan/1", "/review/scan/1"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
    ):
        form = browser.client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        r = browser.client.post(
            "/login",
            data={"name": "rita", "password": PASSWORD, "csrf_token": token.group(1), "next": target},
        )
        assert r.status_code == 303 and r.headers["location"] == lands, target
        browser.client.cookies.delete("vigil_session")


def test_csrf_is_checked_on_every_post(site: Site, server: Served) -> None:
    rita = Browser(server.base).login("rita")
    item = sighting_of(site, site.files["other0"]).item_id
    before = user_row(site, "rita").settings
    change = {"blur": "", "greyscale": "", "break_after_reveals": "3"}
    for token in ("", "not-the-token", Browser(server.base).login("rob").csrf):
        assert rita.form("/settings", change, csrf=token).status_code == 403
        assert rita.htmx("/review/grade", {"item": str(item), "category": "A"}, csrf=token).status_code == 403
        assert rita.htmx("/review/reveal", {"item": str(item)}, csrf=token).status_code == 403
        assert rita.htmx("/wellness/heartbeat", {"seconds": "30"}, csrf=token).status_code == 403
        assert rita.form("/logout", csrf=token).status_code == 403
    # Nothing changed: settings, votes, counters, and the session still works.
    assert user_row(site, "rita").settings == before
    with site.store() as store, store.session() as session:
        assert session.scalars(select(ReviewVote)).all() == []
    assert audit_rows(site, "review.reveal") == [] and audit_rows(site, "review.grade") == []
    assert rita.get("/settings").status_code == 200
    # The login form has its own (double-submit) token.
    assert rita.client.post("/login", data={"name": "rob", "password": PASSWORD}).status_code == 403
    # With the right token it works.
    assert rita.form("/settings", change).status_code == 303
    assert user_row(site, "rita").settings["break_after_reveals"] == 3


def test_lock_out_after_repeated_failures_with_back_off(site: Site, server: Served) -> None:
    browser = Browser(server.base)
    statuses = []
    for _ in range(LOCK_AFTER):
        r = browser.try_login("rita", "wrong password, again")
        statuses.append(r.status_code)
        assert GENERIC in r.text
    assert statuses == [401] * LOCK_AFTER  # the lock is no hint: the same answer as any failure
    # Locked: even the right password is refused, with the same status and message and no Retry-After.
    r = browser.try_login("rita", PASSWORD)
    assert r.status_code == 401 and GENERIC in r.text and "retry-after" not in r.headers
    assert browser.session_cookie is None
    assert json.loads(audit_rows(site, "login.failed")[-1].details or "{}")["retry_after"] >= LOCK_BASE_S - 2
    # An unknown name looks like any failure (401, same message, no lock hint).
    r = browser.try_login("nobody-here", PASSWORD)
    assert r.status_code == 401 and GENERIC in r.text
    # The lock runs out (moved into the past here): one more failure locks again, twice as long.
    with site.store() as store, store.transaction() as session:
        session.execute(
            update(User)
            .where(User.name == "rita")
            .values(locked_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    r = browser.try_login("rita", "still the wrong one")
    assert r.status_code == 401 and "retry-after" not in r.headers
    assert json.loads(audit_rows(site, "login.failed")[-1].details or "{}")["retry_after"] == 2 * LOCK_BASE_S
    with site.store() as store, store.transaction() as session:
        session.execute(update(User).where(User.name == "rita").values(locked_until=None))
    # The right password after the lock: in, and the counter is reset.
    assert browser.try_login("rita", PASSWORD).status_code == 303
    assert user_row(site, "rita").failed_logins == 0
    failures = audit_rows(site, "login.failed")
    assert len(failures) == LOCK_AFTER + 1 + 1 + 1
    assert {f.target for f in failures} == {"user:rita", "user:nobody-here"}
    assert all(f.actor == "web:login" for f in failures)
    reasons = [json.loads(f.details or "{}")["reason"] for f in failures]
    assert "account locked" in reasons and "unknown user" in reasons


def test_logout_ends_the_session(site: Site, server: Served) -> None:
    rita = Browser(server.base).login("rita")
    old_cookie, old_csrf = rita.session_cookie, rita.csrf
    assert old_cookie
    r = rita.form("/logout")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert rita.session_cookie is None
    with site.store() as store, store.session() as session:
        assert session.scalars(select(UserSession)).all() == []
    # The old cookie is worth nothing now: pages go to /login, htmx calls get 401.
    replay = httpx.Client(base_url=server.base, cookies={"vigil_session": old_cookie})
    assert replay.get("/review").status_code == 303
    r = replay.post(
        "/wellness/heartbeat", data={"seconds": "5"}, headers={"HX-Request": "true", "X-CSRF-Token": old_csrf}
    )
    assert r.status_code == 401 and r.headers["hx-redirect"] == "/login"
    [event] = audit_rows(site, "logout")
    assert event.actor == "user:rita"


def test_expired_and_disabled_sessions_are_refused(site: Site, server: Served) -> None:
    rita = Browser(server.base).login("rita")
    rob = Browser(server.base).login("rob")
    with site.store() as store, store.transaction() as session:
        rita_id = session.scalar(select(User.id).where(User.name == "rita"))
        session.execute(
            update(UserSession)
            .where(UserSession.user_id == rita_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        session.execute(update(User).where(User.name == "rob").values(disabled_at=datetime.now(UTC)))
    assert rita.get("/").status_code == 303
    assert rob.get("/").status_code == 303


def test_pages_carry_security_headers(server: Served, browsers: dict[str, Browser]) -> None:
    page = browsers["rita"].get("/review")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    js = httpx.get(f"{server.base}/static/htmx.min.js")
    assert js.status_code == 200 and "htmx" in js.text[:200]
    assert httpx.get(f"{server.base}/static/htmx.LICENSE").status_code == 200


def test_one_address_is_throttled_whatever_names_it_tries(site: Site) -> None:
    """Besides the per-account lock-out: a client spraying passwords over many names gets 429 too."""
    with serve(site, VIGIL_LOGIN_ATTEMPTS_PER_MINUTE="6") as served:
        browser = Browser(served.base)
        statuses = [browser.try_login(f"name{i}", "a wrong password").status_code for i in range(6)]
        assert statuses == [401] * 6
        r = browser.try_login("rita", PASSWORD)  # even the right password, until the minute has passed
        assert r.status_code == 429 and GENERIC in r.text and 1 <= int(r.headers["retry-after"]) <= 11
        assert browser.session_cookie is None
    assert len(audit_rows(site, "login.failed")) == 6  # the throttled attempt never reached the accounts
    assert user_row(site, "rita").failed_logins == 0


def test_refusals_are_audited(site: Site, server: Served) -> None:
    rita = Browser(server.base).login("rita")
    assert rita.get("/arbitration").status_code == 403  # an admin page
    assert rita.htmx("/wellness/heartbeat", {"seconds": "30"}, csrf="wrong").status_code == 403
    assert Browser(server.base).client.post("/login", data={"name": "rob"}).status_code == 403
    rows = audit_rows(site, "web.refused")
    assert [(r.actor, r.target) for r in rows] == [
        ("user:rita", "/arbitration"),
        ("user:rita", "/wellness/heartbeat"),
        ("web:anonymous", "/login"),
    ]
    assert json.loads(rows[0].details or "{}") == {
        "method": "GET",
        "reason": "the reviewer role may not use this page",
    }
    assert "CSRF" in json.loads(rows[1].details or "{}")["reason"]
    assert audit.verify(site.store()).ok


def test_an_idle_session_ends_an_active_one_does_not(site: Site, server: Served) -> None:
    """VIGIL_SESSION_IDLE_MINUTES (30): a session unused for longer is sent to /login, well before its
    12 hours; one used a moment ago, or 29 minutes ago (last_seen is written about once a minute), is not."""
    rita = Browser(server.base).login("rita")
    rob = Browser(server.base).login("rob")
    anna = Browser(server.base).login("anna")
    now = datetime.now(UTC)
    with site.store() as store, store.transaction() as session:
        ids = {name: uid for name, uid in session.execute(select(User.name, User.id))}
        for name, idle in (("rita", timedelta(minutes=31)), ("anna", timedelta(minutes=29))):
            session.execute(
                update(UserSession).where(UserSession.user_id == ids[name]).values(last_seen=now - idle)
            )
    r = rita.get("/settings")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert rita.get("/settings").status_code == 303  # gone for good, not just this once
    assert rob.get("/settings").status_code == 200
    assert anna.get("/settings").status_code == 200
    with site.store() as store, store.session() as session:
        rows = {r.user_id: r for r in session.scalars(select(UserSession))}
    assert ids["rita"] not in rows  # the idle session's row is deleted
    assert now - as_utc(rows[ids["anna"]].last_seen) < timedelta(minutes=1)  # the request touched it
    assert Browser(server.base).login("rita").get("/settings").status_code == 200  # a new login works


def test_a_short_idle_limit_does_not_end_an_active_session(site: Site) -> None:
    """last_seen is written at most once a minute, but a tenth of a shorter idle limit: with a 6 s limit,
    a request every 2 s keeps the session (it would end if last_seen stayed a minute old)."""
    with serve(site, VIGIL_SESSION_IDLE_MINUTES="0.1") as served:
        rita = Browser(served.base).login("rita")
        for _ in range(5):
            time.sleep(2)
            assert rita.get("/settings").status_code == 200
        with site.store() as store, store.transaction() as session:
            session.execute(update(UserSession).values(last_seen=datetime.now(UTC) - timedelta(seconds=7)))
        assert rita.get("/settings").status_code == 303


def login_answer(response: httpx.Response) -> tuple[int, str, list[str]]:
    """What a visitor can tell from a login answer: status, body without its fresh CSRF token, and the
    headers other than the date and the cookie carrying that token."""
    token = response.cookies.get("vigil_login")
    assert token
    body = response.text.replace(token, "(token)")
    headers = sorted(k for k in response.headers if k not in ("date", "set-cookie", "content-length"))
    return response.status_code, body, headers


def test_refused_logins_look_the_same_whatever_the_reason(site: Site, server: Served) -> None:
    """Unknown name, wrong password, locked account, disabled account: one status, one body, one set of
    headers (the time is the same too: tests/test_users.py counts the argon2 verifications)."""
    with site.store() as store, store.transaction() as session:
        session.execute(
            update(User)
            .where(User.name == "rob")
            .values(locked_until=datetime.now(UTC) + timedelta(minutes=5), failed_logins=LOCK_AFTER)
        )
        session.execute(update(User).where(User.name == "anna").values(disabled_at=datetime.now(UTC)))
    browser = Browser(server.base)
    answers = {
        "unknown": login_answer(browser.try_login("nobody-here", PASSWORD)),
        "wrong password": login_answer(browser.try_login("rita", "not the password")),
        "locked": login_answer(browser.try_login("rob", PASSWORD)),
        "disabled": login_answer(browser.try_login("anna", PASSWORD)),
    }
    assert answers["unknown"][0] == 401 and GENERIC in answers["unknown"][1]
    assert all(answer == answers["unknown"] for answer in answers.values()), answers
    reasons = [json.loads(f.details or "{}")["reason"] for f in audit_rows(site, "login.failed")]
    assert reasons == ["unknown user", "wrong password", "account locked", "account disabled"]


def test_forwarded_for_is_not_believed_unless_a_proxy_is_named(site: Site) -> None:
    """uvicorn's default believes X-Forwarded-For from 127.0.0.1: a local client could pick a new address for
    every attempt, dodging the per-address throttle and forging the audit chain's client. Not any more."""
    with serve(site, VIGIL_LOGIN_ATTEMPTS_PER_MINUTE="3") as served:
        browser = Browser(served.base)
        statuses = []
        for i in range(5):
            browser.client.headers["X-Forwarded-For"] = f"203.0.113.{i + 1}"
            statuses.append(browser.try_login(f"name{i}", "a wrong password").status_code)
        assert statuses == [401] * 3 + [429] * 2
    clients = {json.loads(f.details or "{}")["client"] for f in audit_rows(site, "login.failed")}
    assert clients == {"127.0.0.1"}
    # Behind a named proxy (here: this host), its X-Forwarded-For is the client address.
    with serve(site, "--forwarded-allow-ips", "127.0.0.1", VIGIL_LOGIN_ATTEMPTS_PER_MINUTE="3") as served:
        browser = Browser(served.base)
        statuses = []
        for i in range(5):
            browser.client.headers["X-Forwarded-For"] = f"198.51.100.{i + 1}"
            statuses.append(browser.try_login(f"other{i}", "a wrong password").status_code)
        assert statuses == [401] * 5
    clients = {json.loads(f.details or "{}")["client"] for f in audit_rows(site, "login.failed")}
    assert clients == {"127.0.0.1"} | {f"198.51.100.{i + 1}" for i in range(5)}
