"""Review-app accounts: `vigil user ...`, argon2 hashes, lock-out with back-off."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from sqlalchemy import select

from vigil.cli import main
from vigil.store import Store
from vigil.store.models import User
from vigil.store.users import LOCK_AFTER, LOCK_BASE_S, check_login

PASSWORD = "a long benign passphrase"


def run(db: str, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", db, *args], input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_user_add_stores_only_an_argon2_hash(any_db_url: str) -> None:
    code, out, err = run(
        any_db_url, "--json", "user", "add", "rev1", "--role", "reviewer", stdin=PASSWORD + "\n"
    )
    assert code == 0, err
    assert json.loads(out)["role"] == "reviewer"
    with Store(any_db_url) as store, store.session() as s:
        user = s.scalar(select(User).where(User.name == "rev1"))
        assert user is not None and user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert check_login(s, "rev1", PASSWORD).user is not None
        assert check_login(s, "rev1", PASSWORD + "x").user is None
    code, out, _ = run(any_db_url, "--json", "audit", "list")
    assert [(r["action"], r["target"]) for r in json.loads(out)] == [("user.add", "user:rev1")]


def test_user_add_refuses_bad_input(sqlite_url: str) -> None:
    assert run(sqlite_url, "user", "add", "a", "--role", "admin", stdin="short\n")[0] == 1
    assert run(sqlite_url, "user", "add", "a", "--role", "boss", stdin=PASSWORD + "\n")[0] == 2
    assert run(sqlite_url, "user", "add", "a b", "--role", "admin", stdin=PASSWORD + "\n")[0] == 1
    assert run(sqlite_url, "user", "add", "a", "--role", "admin", stdin="")[0] == 1
    assert run(sqlite_url, "user", "add", "a", "--role", "admin", stdin=PASSWORD + "\n")[0] == 0
    code, _, err = run(sqlite_url, "user", "add", "a", "--role", "analyst", stdin=PASSWORD + "\n")
    assert code == 1 and "exists already" in err
    code, out, _ = run(sqlite_url, "--json", "user", "list")
    assert [(u["name"], u["role"]) for u in json.loads(out)] == [("a", "admin")]
    # Nothing of the refused attempts reached the audit chain.
    code, out, _ = run(sqlite_url, "--json", "audit", "list")
    assert [r["action"] for r in json.loads(out)] == ["user.add"]


def test_lock_out_backs_off_and_refuses_even_the_right_password(any_db_url: str) -> None:
    assert run(any_db_url, "user", "add", "ana", "--role", "analyst", stdin=PASSWORD + "\n")[0] == 0
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    with Store(any_db_url) as store:
        for attempt in range(1, LOCK_AFTER + 1):
            with store.transaction() as s:
                result = check_login(s, "ana", "wrong password!", now)
            assert result.user is None
            assert (result.retry_after > 0) == (attempt == LOCK_AFTER)
        assert result.retry_after == LOCK_BASE_S
        with store.transaction() as s:
            locked = check_login(s, "ana", PASSWORD, now + timedelta(seconds=5))
        assert locked.user is None and locked.reason == "account locked" and locked.retry_after > 0
        later = now + timedelta(seconds=LOCK_BASE_S + 1)
        with store.transaction() as s:  # one more failure after the lock: twice as long
            again = check_login(s, "ana", "wrong again!!", later)
        assert again.retry_after == 2 * LOCK_BASE_S
        with store.transaction() as s:
            ok = check_login(s, "ana", PASSWORD, later + timedelta(seconds=2 * LOCK_BASE_S + 1))
        assert ok.user is not None and ok.user.failed_logins == 0
    # An admin can clear a lock from the command line.
    with Store(any_db_url) as store:
        for _ in range(LOCK_AFTER):
            with store.transaction() as s:
                check_login(s, "ana", "wrong password!")
    _, out, _ = run(any_db_url, "--json", "user", "list")
    assert json.loads(out)[0]["locked_until"]
    assert run(any_db_url, "user", "unlock", "ana")[0] == 0
    with Store(any_db_url) as store, store.transaction() as s:
        assert check_login(s, "ana", PASSWORD).user is not None


def test_unknown_and_disabled_users_cannot_log_in(sqlite_url: str) -> None:
    assert run(sqlite_url, "user", "add", "gone", "--role", "reviewer", stdin=PASSWORD + "\n")[0] == 0
    assert run(sqlite_url, "user", "disable", "gone")[0] == 0
    assert run(sqlite_url, "user", "disable", "nobody")[0] == 1
    with Store(sqlite_url) as store, store.transaction() as s:
        assert check_login(s, "gone", PASSWORD).reason == "account disabled"
        assert check_login(s, "nobody", PASSWORD).reason == "unknown user"
    assert run(sqlite_url, "user", "passwd", "gone", stdin="another long passphrase\n")[0] == 0


def test_every_refused_login_costs_one_argon2_verification(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unknown, wrong password, locked, disabled: each runs argon2's verify exactly once, as a good login
    does, so none answers faster than another (counted rather than timed: wall time would be flaky)."""
    for name in ("ok", "wrong", "locked", "off"):
        assert run(sqlite_url, "user", "add", name, "--role", "reviewer", stdin=PASSWORD + "\n")[0] == 0
    assert run(sqlite_url, "user", "disable", "off")[0] == 0
    verify = PasswordHasher.verify
    calls: list[str] = []

    def counted(self: PasswordHasher, hash: str, password: str) -> bool:
        calls.append(password)
        return verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    now = datetime.now(UTC)
    with Store(sqlite_url) as store, store.transaction() as s:
        locked = s.scalar(select(User).where(User.name == "locked"))
        assert locked is not None
        locked.locked_until = now + timedelta(minutes=5)
        s.flush()
        for name, password, reason in (
            ("nobody", PASSWORD, "unknown user"),
            ("wrong", "wrong password!", "wrong password"),
            ("locked", PASSWORD, "account locked"),
            ("off", PASSWORD, "account disabled"),
            ("ok", PASSWORD, None),
        ):
            calls.clear()
            result = check_login(s, name, password, now)
            assert result.reason == reason
            assert calls == [password], (name, calls)


def test_user_names_that_pass_for_another_are_refused(sqlite_url: str) -> None:
    """Names are folded (NFKC, case-folded) when added and when logging in; invisible characters and mixed
    scripts are refused; so is a name that folds to an existing one. Each refusal: one line, exit 1."""
    assert run(sqlite_url, "user", "add", "admin1", "--role", "admin", stdin=PASSWORD + "\n")[0] == 0
    code, out, err = run(
        sqlite_url, "--json", "user", "add", "Rev1", "--role", "reviewer", stdin=PASSWORD + "\n"
    )
    assert code == 0, err
    assert json.loads(out)["name"] == "rev1"  # stored folded
    for name, why in (
        ("admin1\u200b", "invisible characters (U+200B)"),  # zero-width space
        ("ad\u202emin1", "invisible characters (U+202E)"),  # right-to-left override
        ("adm\u0456n", "several scripts (CYRILLIC, LATIN)"),  # Cyrillic і in a Latin name
        ("rev1", "exists already"),
        ("REV1", "exists already"),
        ("\uff52\uff45\uff56\uff11", "exists already"),  # fullwidth ｒｅｖ１
        ("Admin1", "exists already"),
    ):
        code, _, err = run(sqlite_url, "user", "add", name, "--role", "reviewer", stdin=PASSWORD + "\n")
        assert code == 1 and why in err and len(err.strip().splitlines()) == 1, (name, code, err)
    code, out, _ = run(sqlite_url, "--json", "user", "list")
    assert sorted(u["name"] for u in json.loads(out)) == ["admin1", "rev1"]
    assert (
        run(
            sqlite_url, "user", "add", "\u65e5\u672c\u304b\u306a", "--role", "analyst", stdin=PASSWORD + "\n"
        )[0]
        == 0
    )
    with Store(sqlite_url) as store, store.transaction() as s:
        for typed, user in (("REV1", "rev1"), ("\uff52\uff45\uff56\uff11", "rev1"), ("Admin1", "admin1")):
            result = check_login(s, typed, PASSWORD)
            assert result.user is not None and result.user.name == user
        assert check_login(s, "admin1\u200b", PASSWORD).reason == "unknown user"
        assert check_login(s, "adm\u0456n1", PASSWORD).reason == "unknown user"
    assert run(sqlite_url, "user", "disable", "ADMIN1")[0] == 0
    with Store(sqlite_url) as store, store.transaction() as s:
        assert check_login(s, "admin1", PASSWORD).reason == "account disabled"
