"""Review-app accounts: roles, argon2 password hashes (argon2-cffi), and lock-out with back-off.

After `LOCK_AFTER` failed logins in a row an account is locked for `LOCK_BASE_S` seconds, doubling with
each further failure up to `LOCK_MAX_S`; a good password during a lock is refused too (the lock is not a
hint). A successful login resets the counter.

A user name is stored in its folded form (NFKC, case-folded: `vigil.core.text.fold`), and a login's name is
folded the same way, so ``Rev1`` is ``rev1``. Names with invisible characters (zero-width, bidi, controls,
spaces) or letters of more than one script (a Cyrillic ``і`` in a Latin name) are refused, and so is a name
that folds to one that exists.

Every failed login costs one argon2 verification whatever the reason (unknown name: against a dummy hash;
locked or disabled account: against its own hash, the answer ignored), so the time a refusal takes does not
tell an unknown name from a known, locked or disabled one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.clock import as_utc
from vigil.core.errors import VigilError
from vigil.core.text import fold, hidden_characters, scripts
from vigil.store.models import User

ROLES = ("admin", "reviewer", "analyst")
MIN_PASSWORD = 10
LOCK_AFTER = 5
LOCK_BASE_S = 30
LOCK_MAX_S = 15 * 60
DEFAULT_SETTINGS: dict[str, Any] = {
    "blur": True,  # thumbnails blurred until revealed
    "greyscale": True,
    "reveal_on_hover": False,  # reveal while the pointer rests on a thumbnail (else click or space)
    "break_after_reveals": 50,  # a break prompt after this many reveals in a day (0 = never)
    "break_after_minutes": 60,  # ... or this many minutes in the queue in a day
}

_hasher = PasswordHasher()


class UserError(VigilError):
    """An account could not be created or changed (the reason says why)."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def password_matches(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@cache
def dummy_hash() -> str:
    """A hash of a random password, to verify against when the name is unknown (made once per process)."""
    return _hasher.hash(secrets.token_urlsafe(32))


def user_name(name: str) -> str:
    """`name` as it is stored (folded), or a UserError saying what is wrong with it."""
    folded = fold(name.strip())
    if not folded or len(folded) > 200 or any(c.isspace() for c in folded):
        raise UserError(f"bad user name {name!r}: 1-200 characters, no spaces")
    hidden = hidden_characters(folded)
    if hidden:
        raise UserError(f"bad user name {name!r}: invisible characters ({', '.join(hidden)})")
    mixed = scripts(folded)
    if len(mixed) > 1:
        raise UserError(f"bad user name {name!r}: letters of several scripts ({', '.join(sorted(mixed))})")
    return folded


def find_user(session: Session, name: str) -> User | None:
    """The account `name` folds to (an account stored before names were folded: by its exact name)."""
    users = session.scalars(select(User).where(User.name.in_({fold(name), name}))).all()
    return next((u for u in users if u.name == fold(name)), users[0] if users else None)


def add_user(session: Session, name: str, role: str, password: str) -> User:
    name = user_name(name)
    if role not in ROLES:
        raise UserError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
    clash = next((n for n in session.scalars(select(User.name)) if fold(n) == name), None)
    if clash is not None:
        raise UserError(f"user {clash!r} exists already" + ("" if clash == name else f" (as {name!r})"))
    user = User(name=name, role=role, password_hash=hash_password(password), settings=dict(DEFAULT_SETTINGS))
    session.add(user)
    session.flush()
    return user


def settings_of(user: User) -> dict[str, Any]:
    return {**DEFAULT_SETTINGS, **(user.settings or {})}


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    reason: str | None = None  # why not, for the log and audit (the visitor sees one generic message)
    retry_after: int = 0  # seconds until a locked account may try again


def check_login(session: Session, name: str, password: str, now: datetime | None = None) -> LoginResult:
    """Check a login attempt and record its outcome on the account (the caller commits)."""
    now = now or datetime.now(UTC)
    user = find_user(session, name)
    # One argon2 verification on every path: the same cost whether the name is unknown, locked or disabled.
    if user is None:
        password_matches(dummy_hash(), password)
        return LoginResult(None, "unknown user")
    matches = password_matches(user.password_hash, password)
    if user.disabled_at is not None:
        return LoginResult(None, "account disabled")
    if user.locked_until is not None and as_utc(user.locked_until) > now:
        wait = int((as_utc(user.locked_until) - now).total_seconds()) + 1
        return LoginResult(None, "account locked", wait)
    if not matches:
        user.failed_logins += 1
        if user.failed_logins >= LOCK_AFTER:
            seconds = min(LOCK_MAX_S, LOCK_BASE_S * 2 ** (user.failed_logins - LOCK_AFTER))
            user.locked_until = now + timedelta(seconds=seconds)
            return LoginResult(None, f"wrong password; locked for {seconds} s", seconds)
        return LoginResult(None, "wrong password")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    return LoginResult(user)
