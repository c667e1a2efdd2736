"""Reviewer wellness: exposure per user per day, break prompts, the team view, per-user settings.

    from vigil.review import wellness

    with store.transaction() as session:
        status = wellness.reveal(session, user, f"review_item:{item_id}")   # audited; counts one reveal
        wellness.view(session, user, f"review_item:{item_id}")              # audited; counts nothing
        status = wellness.heartbeat(session, user, seconds=30)              # time in the queue
        if status.due: ...show the break prompt...
        wellness.take_break(session, user)           # the prompt counts again from here
        rows = wellness.team_exposure(session, since=date(2026, 1, 1))     # per user per day, no images
        prefs = wellness.get_settings(user)          # users.DEFAULT_SETTINGS merged with the user's own
        wellness.update_settings(session, user, {"blur": False}, by=user)  # validated, audited

A day is a UTC date unless `today` is given. A break is due when the reveals or the minutes in the queue
since the last break (that day) reach the user's ``break_after_reveals`` / ``break_after_minutes``
(0 = never). Heartbeats count at most `MAX_HEARTBEAT_S` seconds each: send one every ~30 s while the
queue is on screen. Only totals per user per day are kept: never which pictures someone saw (the audit
chain records reveals, for accountability, not for the team view).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.core.clock import utcnow
from vigil.review.base import ReviewError, actor, check_role
from vigil.store import audit
from vigil.store.models import Exposure, User
from vigil.store.users import DEFAULT_SETTINGS, settings_of

MAX_HEARTBEAT_S = 120
# name -> (type, minimum, maximum) of each setting a user may change.
SETTING_RULES: dict[str, tuple[type, int, int]] = {
    "blur": (bool, 0, 1),
    "greyscale": (bool, 0, 1),
    "reveal_on_hover": (bool, 0, 1),
    "break_after_reveals": (int, 0, 10_000),
    "break_after_minutes": (int, 0, 24 * 60),
}


@dataclass(frozen=True, slots=True)
class BreakStatus:
    day: date
    reveals: int  # today
    seconds: int  # in the queue today
    breaks: int  # breaks taken today
    reveals_since_break: int
    seconds_since_break: int
    break_after_reveals: int  # 0 = never
    break_after_minutes: int  # 0 = never
    due: bool
    reason: str | None  # why a break is due ("50 pictures revealed since your last break", ...)

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "reveals": self.reveals,
            "seconds": self.seconds,
            "breaks": self.breaks,
            "reveals_since_break": self.reveals_since_break,
            "seconds_since_break": self.seconds_since_break,
            "break_after_reveals": self.break_after_reveals,
            "break_after_minutes": self.break_after_minutes,
            "due": self.due,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class ExposureRow:
    user: str
    day: date
    reveals: int
    seconds: int
    breaks: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "day": self.day.isoformat(),
            "reveals": self.reveals,
            "seconds": self.seconds,
            "minutes": round(self.seconds / 60, 1),
            "breaks": self.breaks,
        }


def reveal(session: Session, user: User, target: str, *, today: date | None = None) -> BreakStatus:
    """`user` revealed a picture (unblurred it): audited, and one more reveal today."""
    audit.append(session, audit.Event(actor(user), "review.reveal", target, None))
    _bump(session, user, today, reveals=1)
    return break_status(session, user, today=today)


def view(session: Session, user: User, target: str, details: dict[str, Any] | None = None) -> None:
    """`user` opened an item (its page, hashes, metadata; the picture stays blurred): audited only."""
    audit.append(session, audit.Event(actor(user), "review.view", target, details))


def heartbeat(session: Session, user: User, seconds: float, *, today: date | None = None) -> BreakStatus:
    """The queue was on `user`'s screen for `seconds` more (at most MAX_HEARTBEAT_S count)."""
    counted = max(0, min(int(seconds), MAX_HEARTBEAT_S))
    if counted:
        _bump(session, user, today, seconds=counted)
    return break_status(session, user, today=today)


def take_break(session: Session, user: User, *, today: date | None = None) -> BreakStatus:
    """The user took the break: the next prompt counts from the current totals."""
    day = today or _today()
    _bump(session, user, day)
    session.execute(
        update(Exposure)
        .where(Exposure.user_id == user.id, Exposure.day == day)
        .values(
            reveals_at_break=Exposure.reveals,
            seconds_at_break=Exposure.seconds,
            breaks=Exposure.breaks + 1,
            updated_at=utcnow(),
        )
    )
    return break_status(session, user, today=day)


def break_status(session: Session, user: User, *, today: date | None = None) -> BreakStatus:
    day = today or _today()
    row = session.execute(
        select(
            Exposure.reveals,
            Exposure.seconds,
            Exposure.breaks,
            Exposure.reveals_at_break,
            Exposure.seconds_at_break,
        ).where(Exposure.user_id == user.id, Exposure.day == day)
    ).first()
    reveals, seconds, breaks, r0, s0 = (int(v) for v in row) if row else (0, 0, 0, 0, 0)
    prefs = get_settings(session.get(User, user.id) or user)  # as stored now
    n_reveals, n_minutes = int(prefs["break_after_reveals"]), int(prefs["break_after_minutes"])
    reason = None
    if n_reveals and reveals - r0 >= n_reveals:
        reason = f"{reveals - r0} pictures revealed since your last break"
    elif n_minutes and seconds - s0 >= n_minutes * 60:
        reason = f"{(seconds - s0) // 60} minutes in the queue since your last break"
    return BreakStatus(
        day,
        reveals,
        seconds,
        breaks,
        reveals - r0,
        seconds - s0,
        n_reveals,
        n_minutes,
        reason is not None,
        reason,
    )


def team_exposure(
    session: Session, *, since: date | None = None, until: date | None = None
) -> list[ExposureRow]:
    """Exposure totals per user per day (newest day first, then by user), between `since` and `until`
    inclusive: for a team lead's view; never per picture."""
    stmt = select(User.name, Exposure.day, Exposure.reveals, Exposure.seconds, Exposure.breaks).join(
        User, User.id == Exposure.user_id
    )
    if since is not None:
        stmt = stmt.where(Exposure.day >= since)
    if until is not None:
        stmt = stmt.where(Exposure.day <= until)
    rows = session.execute(stmt.order_by(Exposure.day.desc(), User.name))
    return [ExposureRow(name, day, int(r), int(s), int(b)) for name, day, r, s, b in rows]


def get_settings(user: User) -> dict[str, Any]:
    """The user's wellness settings: `users.DEFAULT_SETTINGS` with their own choices on top."""
    return settings_of(user)


def update_settings(session: Session, user: User, changes: dict[str, Any], *, by: User) -> dict[str, Any]:
    """Validate and store setting changes for `user` (made by `user` themself, or by an admin); audited.
    Raises ReviewError on an unknown setting or a bad value. Returns the settings now in force."""
    if by.id != user.id:
        check_role(by, ("admin",), "changing another user's settings")
    clean = {name: _check_setting(name, value) for name, value in changes.items()}
    audit.append(
        session,
        audit.Event(actor(by), "review.settings", f"user:{user.name}", {"changes": clean}),
    )
    row = session.get(User, user.id, with_for_update=True)  # the user may come from another session
    if row is None:
        raise ReviewError(f"no user {user.name}")
    merged = {**DEFAULT_SETTINGS, **(row.settings or {}), **clean}
    row.settings = merged  # a new dict: the JSON column sees the change
    if row is not user:
        user.settings = dict(merged)
    session.flush()
    return get_settings(row)


def _check_setting(name: str, value: Any) -> Any:
    rule = SETTING_RULES.get(name)
    if rule is None:
        raise ReviewError(f"unknown setting {name!r} (known: {', '.join(SETTING_RULES)})")
    kind, low, high = rule
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on"):
            return True
        if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "off", ""):
            return False
        raise ReviewError(f"{name} is true or false, not {value!r}")
    if isinstance(value, bool):
        raise ReviewError(f"{name} is a whole number, not {value!r}")
    try:
        number = int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise ReviewError(f"{name} is a whole number, not {value!r}") from None
    if isinstance(value, float) and not value.is_integer():
        raise ReviewError(f"{name} is a whole number, not {value!r}")
    if not low <= number <= high:
        raise ReviewError(f"{name} must be between {low} and {high} (0 = never)")
    return number


def _today() -> date:
    return datetime.now(UTC).date()


def _bump(session: Session, user: User, day: date | None, *, reveals: int = 0, seconds: int = 0) -> None:
    """Add to the user's counters for the day (creating the day's row: concurrent first writes are safe)."""
    day = day or _today()
    now = utcnow()
    values = {
        "user_id": user.id,
        "day": day,
        "reveals": 0,
        "seconds": 0,
        "breaks": 0,
        "reveals_at_break": 0,
        "seconds_at_break": 0,
        "updated_at": now,
    }
    dialect = session.get_bind().dialect.name
    ins = postgresql.insert(Exposure) if dialect == "postgresql" else sqlite.insert(Exposure)
    session.execute(ins.values(**values).on_conflict_do_nothing(index_elements=["user_id", "day"]))
    if reveals or seconds:
        session.execute(
            update(Exposure)
            .where(Exposure.user_id == user.id, Exposure.day == day)
            .values(reveals=Exposure.reveals + reveals, seconds=Exposure.seconds + seconds, updated_at=now)
        )
