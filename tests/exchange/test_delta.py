"""Signed deltas between two vigil instances: both directions, retraction, and every way a bundle can be
wrong (unknown key, tampered, replayed, out of order) refused with the store unchanged."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.exchange.formats import fake_hash
from tests.store.storecheck import snapshot
from vigil.cli import main
from vigil.store import Store
from vigil.store.models import Entry
from vigil.store.models import Signal as SignalRow


def run(db: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", db, *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def sha1(tag: str) -> str:
    return fake_hash("sha1", tag).hex()


def csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("sha1,category\n" + "".join(f"{sha1(t)},{c}\n" for t, c in rows))
    return path


def categories(db: str) -> dict[str, tuple[str, str]]:
    """sha1 tag -> (category, status) for the fake hashes these tests use."""
    with Store(db) as store, store.session() as s:
        rows = s.execute(
            select(SignalRow.value, Entry.category, Entry.status).join(Entry, Entry.id == SignalRow.entry_id)
        )
        by_value = {bytes(v).hex(): (c, st) for v, c, st in rows}
    return {t: by_value[sha1(t)] for t in TAGS if sha1(t) in by_value}


TAGS = ("a", "b", "c", "d", "e")


@pytest.fixture
def pair(tmp_path: Path, any_db_url: str) -> dict[str, object]:
    """Agency A (on each backend in turn) and agency B (SQLite), each trusting the other's key."""
    a, b = any_db_url, str(tmp_path / "b.db")
    for db, name in ((a, "a"), (b, "b")):
        assert run(db, "db", "init")[0] == 0
        assert run(db, "keys", "generate", "--out", str(tmp_path / f"keys-{name}"))[0] == 0
    assert run(b, "keys", "trust", str(tmp_path / "keys-a" / "public.pem"), "--source", "Agency A")[0] == 0
    assert run(a, "keys", "trust", str(tmp_path / "keys-b" / "public.pem"), "--source", "Agency B")[0] == 0
    return {"a": a, "b": b, "tmp": tmp_path}


def bundle(db: str, tmp: Path, name: str, since: int, key: str) -> Path:
    path = tmp / name
    code, _, err = run(db, "export", str(path), "--format", "delta", "--since", str(since), "--sign", key)
    assert code == 0, err
    return path


def seq(db: str) -> int:
    _code, out, _ = run(db, "--json", "db", "stats")
    return int(json.loads(out)["change_seq"])


def test_two_instances_exchange_both_ways_with_a_retraction(pair: dict) -> None:
    a, b, tmp = pair["a"], pair["b"], pair["tmp"]
    key_a, key_b = str(tmp / "keys-a" / "private.pem"), str(tmp / "keys-b" / "private.pem")
    assert stat.S_IMODE((tmp / "keys-a" / "private.pem").stat().st_mode) == 0o600

    assert (
        run(a, "import", str(csv(tmp / "a1.csv", [("a", "A"), ("b", "B"), ("c", "C")])), "--format", "csv")[0]
        == 0
    )
    first = bundle(a, tmp, "a-1.json", 0, key_a)
    code, out, err = run(b, "--json", "import", str(first), "--format", "delta")
    assert code == 0, err
    assert json.loads(out)[0]["entries_created"] == 3
    assert categories(b) == {"a": ("A", "active"), "b": ("B", "active"), "c": ("C", "active")}

    # The same bundle again changes nothing (idempotent).
    code, out, _ = run(b, "--json", "import", str(first), "--format", "delta")
    assert code == 0 and json.loads(out)[0]["already_applied"] is True

    # A's next changes: a re-grading, a new entry and a retraction.
    mark = seq(a)
    assert run(a, "import", str(csv(tmp / "a2.csv", [("b", "A"), ("d", "X")])), "--format", "csv")[0] == 0
    assert run(a, "retract", f"sha1:{sha1('c')}")[0] == 0
    second = bundle(a, tmp, "a-2.json", mark, key_a)
    assert run(b, "import", str(second), "--format", "delta")[0] == 0
    assert categories(b) == {
        "a": ("A", "active"),
        "b": ("A", "active"),
        "c": ("C", "retracted"),
        "d": ("X", "active"),
    }

    # The other way: B grades something new and sends it; A keeps its own provenance apart.
    assert (
        run(b, "import", str(csv(tmp / "b1.csv", [("e", "B")])), "--format", "csv", "--source", "B team")[0]
        == 0
    )
    back = bundle(b, tmp, "b-1.json", 0, key_b)
    code, out, err = run(a, "--json", "import", str(back), "--format", "delta")
    assert code == 0, err
    assert categories(a)["e"] == ("B", "active")
    code, out, _ = run(a, "--json", "keys", "list")
    assert {r["source"]: r["last_seq"] for r in json.loads(out)} == {"Agency B": seq(b)}
    # Both sides' audit chains hold the bundles written and applied.
    code, out, _ = run(b, "--json", "audit", "list")
    actions = [(r["action"], (r["details"] or {}).get("format")) for r in json.loads(out)]
    assert actions.count(("import", "delta")) == 3 and ("export", "delta") in actions
    assert run(b, "audit", "verify")[0] == 0


def test_bad_bundles_are_refused_and_change_nothing(pair: dict) -> None:
    a, b, tmp = pair["a"], pair["b"], pair["tmp"]
    key_a = str(tmp / "keys-a" / "private.pem")
    assert run(a, "import", str(csv(tmp / "a1.csv", [("a", "A")])), "--format", "csv")[0] == 0
    one = bundle(a, tmp, "one.json", 0, key_a)
    mark = seq(a)
    assert run(a, "import", str(csv(tmp / "a2.csv", [("b", "B")])), "--format", "csv")[0] == 0
    two = bundle(a, tmp, "two.json", mark, key_a)
    mark2 = seq(a)
    assert run(a, "import", str(csv(tmp / "a3.csv", [("c", "C")])), "--format", "csv")[0] == 0
    three = bundle(a, tmp, "three.json", mark2, key_a)

    with Store(b) as store:
        before = snapshot(store)

    def refused(path: Path, reason: str) -> None:
        code, _, err = run(b, "import", str(path), "--format", "delta")
        assert code == 1 and reason in err, err
        with Store(b) as store:
            assert snapshot(store) == before

    # Out of order: the second bundle before the first.
    refused(two, "out of order")
    # Tampered: one category changed inside the signed payload.
    doc = json.loads(one.read_text())
    payload = base64.b64decode(doc["payload"]).replace(b'"category":"A"', b'"category":"N"')
    doc["payload"] = base64.b64encode(payload).decode()
    tampered = tmp / "tampered.json"
    tampered.write_text(json.dumps(doc))
    refused(tampered, "signature does not verify")
    # Signed by a key B does not trust.
    assert run(a, "keys", "generate", "--out", str(tmp / "stranger"))[0] == 0
    refused(bundle(a, tmp, "stranger.json", 0, str(tmp / "stranger" / "private.pem")), "not trusted")
    refused(tmp / "a1.csv", "not a delta bundle")

    # In order it goes in; afterwards an older bundle is a replay.
    for path in (one, two, three):
        assert run(b, "import", str(path), "--format", "delta")[0] == 0
    code, _, err = run(b, "import", str(two), "--format", "delta")
    assert code == 1 and "replayed bundle" in err
    assert categories(b) == {"a": ("A", "active"), "b": ("B", "active"), "c": ("C", "active")}


def test_keys_and_signing_arguments(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    assert run(db, "keys", "generate", "--out", str(tmp_path / "k"))[0] == 0
    code, _, err = run(db, "keys", "generate", "--out", str(tmp_path / "k"))
    assert code == 1 and "already holds a key pair" in err
    code, _, err = run(db, "export", str(tmp_path / "x.json"), "--format", "delta")
    assert code == 2 and "must be signed" in err
    code, _, err = run(
        db,
        "export",
        str(tmp_path / "x.csv"),
        "--format",
        "csv",
        "--sign",
        str(tmp_path / "k" / "private.pem"),
    )
    assert code == 2 and "only --format delta" in err
    code, _, err = run(db, "keys", "trust", str(tmp_path / "k" / "private.pem"), "--source", "X")
    assert code == 1 and "not a PEM public key" in err
    assert run(db, "keys", "trust", str(tmp_path / "k" / "public.pem"), "--source", "X")[0] == 0
    code, _, err = run(db, "keys", "trust", str(tmp_path / "k" / "public.pem"), "--source", "Y")
    assert code == 1 and "already trusted" in err
