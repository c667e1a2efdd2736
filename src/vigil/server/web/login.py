"""GET/POST /login and POST /logout.

A failed login gets the same answer whatever the reason (unknown name, wrong password, locked or disabled
account: 401, one message, one argon2 verification's time, see vigil.store.users.check_login); the reason,
and how long a lock lasts, go to the audit chain only. When one client address has tried more than
VIGIL_LOGIN_ATTEMPTS_PER_MINUTE times in the last minute, whichever names it tried, the answer is 429 with
Retry-After: that tells the client about its own address, nothing about an account.
"""

import math
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from vigil.store import audit
from vigil.store.users import check_login, dummy_hash

from .auth import EVERYONE, LOGIN_COOKIE, SESSION_COOKIE, Guard, Sessions, lock_audit_chain, new_token, same
from .core import Refused, Viewer, Web

FAILED = "Wrong name or password, or the account is locked for a while. Try again later."


def safe_next(target: str | None) -> str:
    """Only a path on this site: no scheme, no host, no backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(c) < 32 for c in target) or target.startswith("/login"):
        return "/"
    return target


def login_form(web: Web, request: Request, status: int, message: str | None, next_url: str) -> Response:
    """The login page, with a fresh double-submit CSRF token in its form and in a cookie."""
    token = new_token()
    response = web.page(
        request,
        "login.html",
        None,
        status=status,
        csrf=token,
        message=message,
        next_url=next_url,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=web.settings.cookie_secure,
    )
    return response


def attempt(web: Web, sessions: Sessions, name: str, password: str, client: str | None) -> str | None:
    """The new session's token, or None. Audited either way."""
    with web.store.transaction() as db:
        lock_audit_chain(db)  # the outcome is audited after the check: hold the chain from the start
        result = check_login(db, name, password)
        if result.user is None:
            details = {"reason": result.reason, "client": client, "retry_after": result.retry_after}
            audit.append(db, audit.Event("web:login", "login.failed", f"user:{name}", details))
            return None
        audit.append(db, audit.Event(f"user:{result.user.name}", "login", None, {"client": client}))
        token, _csrf = sessions.start(db, result.user)
        return token


def routes(web: Web, sessions: Sessions, guard: Guard) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    dummy_hash()  # made now: the first unknown name must not take a hash's time longer than the others

    @router.get("/login")
    def login_page(request: Request, next: str | None = None) -> Response:
        if sessions.find(request.cookies.get(SESSION_COOKIE)) is not None:
            return RedirectResponse(safe_next(next), status_code=303)
        return login_form(web, request, 200, None, safe_next(next))

    @router.post("/login")
    async def login(
        request: Request,
        name: Annotated[str, Form(max_length=200)] = "",
        password: Annotated[str, Form(max_length=1000)] = "",
        csrf_token: Annotated[str, Form(max_length=200)] = "",
        next: Annotated[str, Form(max_length=2000)] = "/",
    ) -> Response:
        if not same(csrf_token, request.cookies.get(LOGIN_COOKIE)):
            raise Refused(403, "the login form expired: reload the page")
        client = request.client.host if request.client else None
        per_minute = web.settings.login_attempts_per_minute
        throttled = web.login_limiter.wait(f"login:{client}", per_minute / 60, burst=per_minute)
        if throttled > 0:  # too many attempts from this address, whatever the names: not even checked
            response = login_form(web, request, 429, FAILED, safe_next(next))
            response.headers["Retry-After"] = str(max(1, math.ceil(throttled)))
            return response
        token = await run_in_threadpool(attempt, web, sessions, name, password, client)
        if token is None:  # the same answer for every reason: no hint whether the name exists
            return login_form(web, request, 401, FAILED, safe_next(next))
        response = RedirectResponse(safe_next(next), status_code=303)
        sessions.set_cookie(response, token)
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        return response

    @router.post("/logout")
    def logout(viewer: Annotated[Viewer, Depends(guard(*EVERYONE))]) -> Response:
        with web.store.transaction() as db:
            audit.append(db, audit.Event(viewer.actor, "logout"))
            sessions.end(db, viewer.session_id)
        response = RedirectResponse("/login", status_code=303)
        sessions.clear_cookie(response)
        return response

    return router
