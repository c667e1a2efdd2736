"""The audit chain: appends from many writers stay one chain; `vigil audit verify` finds every edited,
deleted or reordered row (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, text, update

from vigil.cli import main
from vigil.store import Store, audit
from vigil.store.models import Audit, AuditHead


def run(db: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", db, *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def fill(store: Store, n: int = 6) -> None:
    for i in range(n):
        audit.record(store, audit.Event(f"user:u{i % 2}", "grade", f"item:{i}", {"category": "B", "n": i}))


def verify(db: str) -> tuple[int, dict]:
    code, out, _ = run(db, "--json", "audit", "verify")
    return code, json.loads(out)


def test_an_untouched_chain_verifies(any_db_url: str) -> None:
    with Store(any_db_url) as store:
        fill(store)
        with store.transaction() as session:  # a batch lands as consecutive rows
            audit.append(
                session, [audit.Event("apikey:p", "api.lookup", None, {"hashes": k}) for k in (1, 2, 3)]
            )
    code, report = verify(any_db_url)
    assert code == 0 and report["ok"] and report["rows"] == 9 and report["head_id"] == 9
    code, out, _ = run(any_db_url, "--json", "audit", "list", "--last", "3")
    assert [r["details"]["hashes"] for r in json.loads(out)] == [1, 2, 3]
    # A head recorded earlier is still in the chain after more rows.
    with Store(any_db_url) as store:
        fill(store, 2)
    assert run(any_db_url, "audit", "verify", "--expect", report["head_hash"])[0] == 0


def _edit_details(store: Store) -> None:
    with store.transaction() as s:
        s.execute(update(Audit).where(Audit.id == 3).values(details='{"category":"C","n":2}'))


def _edit_actor(store: Store) -> None:
    with store.transaction() as s:
        s.execute(update(Audit).where(Audit.id == 2).values(actor="user:someone-else"))


def _delete_middle(store: Store) -> None:
    with store.transaction() as s:
        s.execute(delete(Audit).where(Audit.id == 4))


def _delete_newest(store: Store) -> None:
    with store.transaction() as s:
        s.execute(delete(Audit).where(Audit.id == 6))


def _delete_newest_and_fix_head(store: Store) -> None:
    """Deleting the last row and rewinding the head to the row before: the count still disagrees."""
    with store.transaction() as s:
        prev = s.scalar(select(Audit.hash).where(Audit.id == 5))
        s.execute(delete(Audit).where(Audit.id == 6))
        s.execute(update(AuditHead).values(last_id=5, last_hash=prev))


def _swap_rows(store: Store) -> None:
    """Reorder: rows 2 and 3 trade places (ids swapped, hashes kept with their content)."""
    with store.transaction() as s:
        s.execute(update(Audit).where(Audit.id == 2).values(id=-2))
        s.execute(update(Audit).where(Audit.id == 3).values(id=2))
        s.execute(update(Audit).where(Audit.id == -2).values(id=3))


def _rehash_one_row(store: Store) -> None:
    """Edit a row and recompute its own hash: the next row's link gives it away."""
    with store.transaction() as s:
        row = s.scalar(select(Audit).where(Audit.id == 2))
        assert row is not None
        row.action = "export"
        row.hash = audit.row_hash(
            row.prev_hash, row.id, row.at, row.actor, row.action, row.target, row.details
        )


TAMPERING: dict[str, tuple[Callable[[Store], None], str]] = {
    "edited details": (_edit_details, "row 3: content does not match"),
    "edited actor": (_edit_actor, "row 2: content does not match"),
    "deleted row": (_delete_middle, "rows 4..4 are missing"),
    "deleted newest row": (_delete_newest, "the chain ends at row 5 but the head records row 6"),
    "deleted newest, head rewound": (_delete_newest_and_fix_head, "5 rows in the chain, the head counts 6"),
    "reordered rows": (_swap_rows, "row 2: content does not match"),
    "re-hashed row": (_rehash_one_row, "row 3: link to the previous row is broken"),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_is_detected(any_db_url: str, case: str) -> None:
    tamper, expected = TAMPERING[case]
    with Store(any_db_url) as store:
        fill(store)
        tamper(store)
    code, report = verify(any_db_url)
    assert code == 1 and not report["ok"]
    assert any(expected in p for p in report["problems"]), report["problems"]


def test_a_rewritten_chain_is_caught_by_a_recorded_head(sqlite_url: str) -> None:
    with Store(sqlite_url) as store:
        fill(store, 3)
    recorded = verify(sqlite_url)[1]["head_hash"]
    with Store(sqlite_url) as store:  # someone rewrites the whole table consistently
        with store.transaction() as s:
            s.execute(delete(Audit))
            s.execute(update(AuditHead).values(last_id=0, last_hash=audit.GENESIS, count=0))
        audit.record(store, audit.Event("user:x", "login"))
    assert verify(sqlite_url)[0] == 0
    code, out, _ = run(sqlite_url, "--json", "audit", "verify", "--expect", recorded)
    assert code == 1 and "not in the chain" in out


def _writer(db: str, who: int, n: int) -> None:
    with Store(db) as store:
        for i in range(n):
            audit.record(store, audit.Event(f"user:w{who}", "view", f"item:{i}"))


def test_concurrent_writers_extend_one_chain(any_db_url: str) -> None:
    with Store(any_db_url):
        pass
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(any_db_url, w, 25)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    code, report = verify(any_db_url)
    assert code == 0 and report["rows"] == 100, report
    with Store(any_db_url) as store, store.session() as s:
        ids = [r for (r,) in s.execute(text("SELECT id FROM audit ORDER BY id"))]
    assert ids == list(range(1, 101))


def test_api_key_changes_are_audited_without_the_key(sqlite_url: str) -> None:
    code, out, _ = run(sqlite_url, "--json", "apikey", "create", "platform-x", "--scopes", "lookup,submit")
    assert code == 0
    key = json.loads(out)["key"]
    assert run(sqlite_url, "apikey", "revoke", "platform-x")[0] == 0
    assert run(sqlite_url, "apikey", "revoke", "nobody")[0] == 1  # refused: nothing recorded
    code, out, _ = run(sqlite_url, "--json", "audit", "list")
    rows = json.loads(out)
    assert [(r["action"], r["target"]) for r in rows] == [
        ("apikey.create", "apikey:platform-x"),
        ("apikey.revoke", "apikey:platform-x"),
    ]
    assert rows[0]["details"] == {"scopes": ["lookup", "submit"], "rate_limit": 100}
    assert key not in out


def test_trusting_a_key_and_retracting_are_audited(sqlite_url: str, tmp_path: Path) -> None:
    md5s = ["0" * 31 + "1", "0" * 31 + "2"]
    (tmp_path / "k.csv").write_text("md5,category\n" + "".join(f"{m},A\n" for m in md5s))
    assert run(sqlite_url, "import", str(tmp_path / "k.csv"), "--format", "csv")[0] == 0
    code, out, _ = run(sqlite_url, "--json", "keys", "generate", "--out", str(tmp_path / "keys"))
    assert code == 0
    fingerprint = json.loads(out)["fingerprint"]
    public = tmp_path / "keys" / "public.pem"
    assert run(sqlite_url, "keys", "trust", str(public), "--source", "partner-a")[0] == 0
    assert run(sqlite_url, "keys", "trust", str(public), "--source", "partner-a")[0] == 1  # refused: no row
    assert run(sqlite_url, "retract", "1", f"md5:{md5s[1]}")[0] == 0
    assert run(sqlite_url, "retract", "1")[0] == 0  # already retracted: nothing changes, nothing recorded
    assert run(sqlite_url, "retract", "--restore", "2")[0] == 0
    assert run(sqlite_url, "retract", "99")[0] == 1  # refused: no row

    code, out, _ = run(sqlite_url, "--json", "audit", "list")
    rows = [r for r in json.loads(out) if r["action"] != "import"]
    assert [(r["action"], r["target"], r["actor"].startswith("cli:")) for r in rows] == [
        ("keys.trust", f"key:{fingerprint}", True),
        ("entry.retract", "entry:1", True),
        ("entry.retract", "entry:2", True),
        ("entry.restore", "entry:2", True),
    ]
    assert rows[0]["details"] == {"source": "partner-a", "file": str(public.resolve())}
    assert rows[1]["details"] == {"requested": ["1", f"md5:{md5s[1]}"]}
    code, report = verify(sqlite_url)
    assert code == 0 and report["ok"]
