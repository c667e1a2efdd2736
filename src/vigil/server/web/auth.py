"""Sessions, CSRF and roles.

A login gets a random token in a cookie (HttpOnly, SameSite=Strict, Secure unless VIGIL_COOKIE_SECURE is
false); the store keeps only the token's SHA-256, with the session's CSRF token and expiry. Every route
depends on `Guard`: it finds the session, checks the role, and on every POST checks the CSRF token (form
field ``csrf_token`` or header ``X-CSRF-Token``, which htmx sends from the page's ``hx-headers``). The
login form, which has no session yet, uses a double-submit token: a cookie set with the form, compared
with the form's hidden field.

A session ends after VIGIL_SESSION_HOURS whatever happens, and after VIGIL_SESSION_IDLE_MINUTES without a
request. The store's ``last_seen`` is written at most once per `touch_every` (a write per request would
serialise every page view), so it may lag the last request by up to that much: the idle check compares it
with the limit itself, never more, so an idle session never outlives the limit; and `touch_every` is a small
fraction of the limit, so an active user is never taken for an idle one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from vigil.core.clock import as_utc
from vigil.store.audit import HEAD_ID
from vigil.store.models import AuditHead, User, UserSession
from vigil.store.users import settings_of

from .core import NeedLogin, Refused, Viewer, Web

SESSION_COOKIE = "vigil_session"
LOGIN_COOKIE = "vigil_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = ("GET", "HEAD")
TOUCH_EVERY = timedelta(
    minutes=1
)  # last_seen is written at most this often (less if the idle limit is short)

ADMIN = ("admin",)
REVIEWERS = ("admin", "reviewer")
ANALYSTS = ("admin", "analyst")
EVERYONE = ("admin", "reviewer", "analyst")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def touch_every(idle: timedelta) -> timedelta:
    """How often a session's last_seen is written: every TOUCH_EVERY, or a tenth of a shorter idle limit
    (a user idle for 90 % of the limit may come back without having been logged out)."""
    return min(TOUCH_EVERY, idle / 10)


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def lock_audit_chain(session: Session) -> None:
    """Take the audit chain's lock first thing in a transaction that will append to it after reading (a
    login: the outcome is known only after the password check). On SQLite this makes the transaction a
    writer from its start, so it cannot fail half-way upgrading from reader to writer."""
    session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(count=AuditHead.count))


class Sessions:
    def __init__(self, web: Web) -> None:
        self.web = web
        self.idle = timedelta(minutes=web.settings.session_idle_minutes)

    def start(self, db: Session, user: User) -> tuple[str, str]:
        """A new session for `user` inside the caller's transaction: (cookie token, CSRF token)."""
        token, csrf = new_token(), new_token()
        now = datetime.now(UTC)
        db.execute(delete(UserSession).where(UserSession.expires_at < now))  # sweep expired logins
        db.add(
            UserSession(
                token_hash=token_hash(token),
                user_id=user.id,
                csrf_token=csrf,
                created_at=now,
                last_seen=now,
                expires_at=now + timedelta(hours=self.web.settings.session_hours),
            )
        )
        return token, csrf

    def find(self, token: str | None) -> Viewer | None:
        if not token or len(token) > 200:
            return None
        now = datetime.now(UTC)
        with self.web.store.session() as db:
            row = db.execute(
                select(UserSession, User)
                .join(User, User.id == UserSession.user_id)
                .where(UserSession.token_hash == token_hash(token))
            ).first()
            if row is None:
                return None
            sess, user = row
            if as_utc(sess.expires_at) <= now or user.disabled_at is not None:
                return None
            idle_for = now - as_utc(sess.last_seen)
            viewer = Viewer(user.id, user.name, user.role, sess.csrf_token, sess.id, settings_of(user))
        if idle_for > self.idle:  # unused too long: the session is gone for good, a login starts a new one
            with self.web.store.transaction() as db:
                self.end(db, viewer.session_id)
            return None
        if idle_for >= touch_every(self.idle):
            with self.web.store.transaction() as db:
                db.execute(
                    update(UserSession).where(UserSession.id == viewer.session_id).values(last_seen=now)
                )
        return viewer

    def end(self, db: Session, session_id: int) -> None:
        db.execute(delete(UserSession).where(UserSession.id == session_id))

    def set_cookie(self, response: Response, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(self.web.settings.session_hours * 3600),
            path="/",
            httponly=True,
            samesite="strict",
            secure=self.web.settings.cookie_secure,
        )

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(
            SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=self.web.settings.cookie_secure
        )


async def sent_csrf(request: Request) -> str | None:
    """The CSRF token a request carries: the X-CSRF-Token header, else the form's csrf_token field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    kind = request.headers.get("content-type", "")
    if kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


class Guard:
    """The dependency every review-app route starts with: `Guard(web, sessions, roles)`."""

    def __init__(self, web: Web, sessions: Sessions) -> None:
        self.web = web
        self.sessions = sessions

    def __call__(self, *roles: str) -> Callable[[Request], Awaitable[Viewer]]:
        async def check(request: Request) -> Viewer:
            viewer = await run_in_threadpool(self.sessions.find, request.cookies.get(SESSION_COOKIE))
            if viewer is None:
                raise NeedLogin()
            request.state.viewer = viewer  # who was refused, for the audit row of a 403 (core.Web.refused)
            if viewer.role not in roles:
                raise Refused(403, f"the {viewer.role} role may not use this page")
            if request.method not in SAFE_METHODS and not same(await sent_csrf(request), viewer.csrf):
                raise Refused(403, "missing or wrong CSRF token (reload the page)")
            return viewer

        return check
