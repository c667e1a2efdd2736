"""One set of rules for every imported record: a signed delta from a trusted partner with a bad record is
refused whole (`bundle: record N: reason`, exit 1, store unchanged), and so is every malformed bundle or
file — a one-line error, never a traceback. The same rules hold for the file formats."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.exchange.formats import fake_hash
from tests.exchange.test_delta import csv, run
from tests.store.storecheck import snapshot
from vigil.core.records import HashRecord
from vigil.exchange import delta
from vigil.exchange.base import record_problem
from vigil.store import Store

DEEP = 100_000


@pytest.fixture
def partner(tmp_path: Path) -> dict[str, Any]:
    """Store B trusts agency A's key and has applied A's first bundle (two entries)."""
    a, b = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    for db in (a, b):
        assert run(db, "db", "init")[0] == 0
    assert run(a, "keys", "generate", "--out", str(tmp_path / "keys"))[0] == 0
    assert run(b, "keys", "trust", str(tmp_path / "keys" / "public.pem"), "--source", "Agency A")[0] == 0
    assert run(a, "import", str(csv(tmp_path / "a.csv", [("a", "A"), ("b", "B")])), "--format", "csv")[0] == 0
    first = tmp_path / "first.json"
    key = str(tmp_path / "keys" / "private.pem")
    assert run(a, "export", str(first), "--format", "delta", "--since", "0", "--sign", key)[0] == 0
    assert run(b, "import", str(first), "--format", "delta")[0] == 0
    payload = json.loads(base64.b64decode(json.loads(first.read_text())["payload"]))
    return {"b": b, "tmp": tmp_path, "key": tmp_path / "keys" / "private.pem", "last": payload["to_seq"]}


def signed(p: dict[str, Any], name: str, data: bytes) -> Path:
    """A bundle of exactly `data`, signed with the trusted key (what a partner could really send)."""
    key = delta.load_private(p["key"])
    doc = {
        "format": delta.FORMAT,
        "version": delta.VERSION,
        "sender": delta.fingerprint(key.public_key()),
        "payload": base64.b64encode(data).decode(),
        "signature": key.sign(data).hex(),
    }
    path = p["tmp"] / name
    path.write_text(json.dumps(doc))
    return path


def good_record(tag: str = "new") -> dict[str, Any]:
    return {
        "hashes": {"sha1": fake_hash("sha1", tag).hex()},
        "quality": {},
        "category": "C",
        "series": None,
        "victim_identified": False,
        "notes": None,
        "size": 10,
        "status": "active",
    }


def payload(p: dict[str, Any], recs: list[Any], **over: Any) -> bytes:
    body = {"from_seq": p["last"], "to_seq": p["last"] + 5, "created": "x", "source": "A", "records": recs}
    body.update(over)
    return json.dumps(body).encode()


def refused(p: dict[str, Any], path: Path, reason: str) -> None:
    with Store(p["b"]) as store:
        before = snapshot(store)
    code, _, err = run(p["b"], "import", str(path), "--format", "delta")
    assert code == 1, err
    assert reason in err, err
    assert len(err.strip().splitlines()) == 1, err  # one line, no traceback
    with Store(p["b"]) as store:
        assert snapshot(store) == before


BAD_RECORDS = [
    ({"category": "Q"}, "record 2: unknown category 'Q'"),
    ({"category": 5}, "record 2: unknown category 5"),
    ({"size": -7}, "record 2: size must be a whole number"),
    ({"size": 2**70}, "record 2: size must be a whole number"),
    ({"size": "10"}, "record 2: size must be a whole number"),
    ({"victim_identified": "yes"}, "record 2: victim_identified must be true or false"),
    ({"quality": {"pdq": 5}}, "record 2: pdq quality given without a pdq hash"),
    ({"quality": {"sha1": 5}}, "record 2: sha1 values carry no quality"),
    ({"hashes": {"pdq": "ab" * 32}, "quality": {"pdq": "abc"}}, "record 2: pdq quality must be"),
    ({"hashes": {"pdq": "ab" * 32}, "quality": {"pdq": 101}}, "record 2: pdq quality must be"),
    ({"quality": "abc"}, "record 2: quality must be an object"),
    ({"hashes": {"sha1": "ab" * 16}}, "record 2: sha1 value must be 40 hex digits"),
    ({"hashes": {"sha1": 7}}, "record 2: hashes must be an object"),
    ({"hashes": {"tiger": "ab" * 24}}, "record 2: unknown signal 'tiger'"),
    ({"hashes": {}}, "record 2: no hash value"),
    ({"series": "s" * 201}, "record 2: series is longer than 200"),
    ({"notes": ["x"]}, "record 2: notes must be text"),
    ({"status": None}, "record 2: status must be 'active' or 'retracted'"),
    ({"status": "gone"}, "record 2: status must be 'active' or 'retracted'"),
]


@pytest.mark.parametrize(("change", "reason"), BAD_RECORDS, ids=[r for _, r in BAD_RECORDS])
def test_a_signed_bundle_with_one_bad_record_is_refused_whole(
    partner: dict[str, Any], change: dict[str, Any], reason: str
) -> None:
    bad = {**good_record("second"), **change}
    path = signed(partner, "bad.json", payload(partner, [good_record("first"), bad]))
    refused(partner, path, f"{path}: {reason}")


def test_a_record_without_status_or_not_an_object_is_refused(partner: dict[str, Any]) -> None:
    rec = good_record()
    del rec["status"]
    refused(partner, signed(partner, "nostatus.json", payload(partner, [rec])), "record 1: status must be")
    for n, odd in enumerate((1, None, "x", [1])):
        path = signed(partner, f"odd{n}.json", payload(partner, [good_record(), odd]))
        refused(partner, path, "record 2: expected an object")


@pytest.mark.parametrize(
    ("over", "reason"),
    [
        ({"to_seq": 2**70}, "sequence numbers must be"),
        ({"from_seq": -1}, "sequence numbers must be"),
        ({"to_seq": "9"}, "sequence numbers must be"),
        ({"to_seq": True}, "sequence numbers must be"),
        ({"records": {"a": 1}}, "records list"),
        ({"records": None}, "records list"),
    ],
)
def test_malformed_signed_payloads_are_one_line_errors(
    partner: dict[str, Any], over: dict[str, Any], reason: str
) -> None:
    refused(partner, signed(partner, "p.json", payload(partner, [good_record()], **over)), reason)
    refused(partner, signed(partner, "list.json", b"[1, 2]"), "expected an object with a records list")


def test_deeply_nested_json_is_a_one_line_error(partner: dict[str, Any]) -> None:
    nested = b"[" * DEEP + b"]" * DEEP
    refused(
        partner, signed(partner, "deep-payload.json", b'{"records":' + nested + b"}"), "nested too deeply"
    )
    outer = partner["tmp"] / "deep-outer.json"
    outer.write_bytes(b'{"format":' + nested + b"}")
    refused(partner, outer, "nested too deeply")
    # Unsigned nesting never reaches the payload parser: the signature is checked over the raw bytes first.
    doc = json.loads(signed(partner, "x.json", payload(partner, [good_record()])).read_text())
    doc["payload"] = base64.b64encode(b'{"records":' + nested + b"}").decode()
    tampered = partner["tmp"] / "tampered.json"
    tampered.write_text(json.dumps(doc))
    refused(partner, tampered, "signature does not verify")


def test_a_good_signed_bundle_still_applies(partner: dict[str, Any]) -> None:
    path = signed(
        partner, "ok.json", payload(partner, [good_record("x"), {**good_record("y"), "category": ""}])
    )
    code, out, err = run(partner["b"], "--json", "import", str(path), "--format", "delta")
    assert code == 0, err
    assert json.loads(out)[0]["entries_created"] == 2


def test_vics_files_follow_the_same_rules(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    assert run(db, "db", "init")[0] == 0
    md5 = fake_hash("md5", "v").hex()
    cases = [
        ({"MD5": md5, "MediaSize": 2**70}, "size must be a whole number"),
        ({"MD5": md5, "Series": "s" * 300}, "series is longer than 200"),
    ]
    for n, (media, reason) in enumerate(cases):
        path = tmp_path / f"v{n}.json"
        path.write_text(json.dumps({"value": [media]}))
        code, _, err = run(db, "import", str(path), "--format", "vics")
        assert code == 1 and reason in err and f"{path}:1:" in err, err
    deep = tmp_path / "deep.json"
    deep.write_text("[" * DEEP + "]" * DEEP)
    code, _, err = run(db, "import", str(deep), "--format", "vics")
    assert code == 1 and "nested too deeply" in err and len(err.strip().splitlines()) == 1, err
    with Store(db) as store:
        assert snapshot(store).stats["entries"] == 0


def test_csv_rows_follow_the_same_rules(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    assert run(db, "db", "init")[0] == 0
    path = tmp_path / "long.csv"
    path.write_text(f"sha1,category,series\n{fake_hash('sha1', 'c').hex()},A,{'s' * 201}\n")
    code, _, err = run(db, "import", str(path), "--format", "csv")
    assert code == 1 and f"{path}:2: series is longer than 200" in err, err


def test_record_problem_names_what_is_wrong() -> None:
    ok = HashRecord(line=1, hashes={"md5": fake_hash("md5", "r")}, category="A", size=0)
    assert record_problem(ok) is None
    assert "md5 value must be 32 hex digits" in str(record_problem(HashRecord(1, {"md5": b"\x00" * 3})))
    assert "must be bytes" in str(record_problem(HashRecord(1, {"md5": "00" * 16})))  # type: ignore[dict-item]
    assert "quality" in str(record_problem(HashRecord(1, {"md5": ok.hashes["md5"]}, {"md5": True})))
