"""Only trusted gradings leave the store by default (CSV, VICS, delta...); platform submissions are
hash-only review items, graded like any other."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from tests.exchange.formats import fake_hash
from tests.review.conftest import add_user, distinct, scan
from vigil.cli import main
from vigil.config import Settings
from vigil.core.records import HashRecord
from vigil.review import TRUSTED, Grade, Scope, attach_folder, attach_submissions, cast_vote, queue
from vigil.store import Store, queries
from vigil.store.ingest import import_records
from vigil.store.models import ApiKey, Submission


def submit(store: Store, hashes: dict[str, str], **fields: object) -> int:
    with store.transaction() as s:
        key = s.scalar(select(ApiKey).where(ApiKey.name == "platform"))
        if key is None:
            key = ApiKey(name="platform", key_hash="0" * 64, scopes="lookup,submit", rate_limit=0)
            s.add(key)
            s.flush()
        row = Submission(api_key_id=key.id, kind="suspected", hashes=hashes, **fields)
        s.add(row)
        s.flush()
        return int(row.id)


def exported(store: Store, **options: bool) -> dict[str, str | None]:
    """sha1 or sha256 hex -> exported category."""
    with store.session() as s:
        out = {}
        for r in queries.iter_export(s, **options):
            for name in ("sha1", "sha256"):
                if name in r.hashes:
                    out[r.hashes[name].hex()] = r.category
        return out


def run(db: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", db, *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_only_trusted_gradings_are_exported_by_default(any_store: Store, tmp_path: Path) -> None:
    settings = Settings(review_votes=2)
    old, new = fake_hash("sha1", "known-before").hex(), fake_hash("sha256", "brand-new").hex()
    with any_store.transaction() as s:
        import_records(
            s,
            [HashRecord(line=1, hashes={"sha1": bytes.fromhex(old)}, category="B")],
            file="partner.csv",
            source="partner agency",
        )
    sub_new = submit(any_store, {"sha256": new}, platform="example-platform")
    sub_old = submit(any_store, {"sha1": old})
    attached = attach_submissions(any_store, settings=settings)
    assert (attached.sightings, attached.items_created) == (2, 2)
    rev1, rev2 = add_user(any_store, "rev1"), add_user(any_store, "rev2")
    with any_store.session() as s:
        items = {i.submission_id: i for g in queue(s, Scope.submissions()).groups for i in g.items}
    with any_store.transaction() as s:
        cast_vote(s, items[sub_new].item_id, rev1, Grade("A"), settings)
        cast_vote(s, items[sub_old].item_id, rev1, Grade("C"), settings)

    assert exported(any_store) == {old: "B"}  # the partner's trusted grade; the review votes wait
    assert exported(any_store, include_untrusted=True) == {old: "C", new: "A"}
    db = any_store.url
    out = tmp_path / "out.csv"
    assert run(db, "export", str(out), "--format", "csv")[0] == 0
    assert len(list(csv.DictReader(io.StringIO(out.read_text())))) == 1
    assert run(db, "export", str(out), "--format", "csv", "--include-untrusted")[0] == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert sorted((r["category"], r["source"]) for r in rows) == [("A", "review"), ("C", "review")]
    assert run(db, "keys", "generate", "--out", str(tmp_path / "keys"))[0] == 0
    key = str(tmp_path / "keys" / "private.pem")
    code, stdout, _ = run(
        db, "--json", "export", str(tmp_path / "d1.json"), "--format", "delta", "--sign", key
    )
    assert code == 0 and json.loads(stdout)["records"] == 1
    code, stdout, _ = run(
        db,
        "--json",
        "export",
        str(tmp_path / "d2.json"),
        "--format",
        "delta",
        "--sign",
        key,
        "--include-untrusted",
    )
    assert code == 0 and json.loads(stdout)["records"] == 2

    with any_store.transaction() as s:
        assert cast_vote(s, items[sub_new].item_id, rev2, Grade("A"), settings).status == TRUSTED
    assert exported(any_store) == {old: "B", new: "A"}
    with any_store.session() as s:
        status = {int(i): st for i, st in s.execute(select(Submission.id, Submission.status))}
        assert status == {sub_new: "graded", sub_old: "pending"}
        graded = s.get(Submission, sub_new)
        assert graded is not None and graded.entry_id is not None


def test_submissions_are_in_the_queue_and_join_scan_items(any_store: Store, tmp_path: Path) -> None:
    settings = Settings(review_votes=1)
    ev = tmp_path / "ev"
    picture = distinct(ev, [101])[0]
    summary = scan(any_store, ev, tmp_path / "out")
    attach_folder(any_store, tmp_path / "out", settings=settings)
    sha256 = hashlib.sha256(picture.read_bytes()).hexdigest()
    same = submit(any_store, {"sha256": sha256}, location="https://example.invalid/x", platform="p1")
    alone = submit(any_store, {"md5": fake_hash("md5", "hash-only").hex()}, notes="synthetic report")
    submit(any_store, {"md5": fake_hash("md5", "rejected").hex()}, status="rejected")
    assert attach_submissions(any_store, settings=settings).sightings == 2
    assert attach_submissions(any_store, settings=settings).sightings == 0  # idempotent
    reviewer = add_user(any_store, "rev")
    with any_store.session() as s:
        page = queue(s, Scope.submissions(), user=reviewer)
        items = {i.submission_id: i for g in page.groups for i in g.items}
        assert set(items) == {same, alone} and page.total_items == 2
        assert items[alone].path is None and items[alone].hashes == {
            "md5": fake_hash("md5", "hash-only").hex()
        }
        # The platform's hash is the scan's picture: one item, and the picture is there to look at.
        assert items[same].path == str(picture) and items[same].scan_item_id is not None
        in_scan = queue(s, Scope.scan(summary["scan_id"])).groups[0].items[0]
        assert in_scan.item_id == items[same].item_id
    with any_store.transaction() as s:
        assert cast_vote(s, items[same].item_id, reviewer, Grade("N"), settings).status == TRUSTED
        assert cast_vote(s, items[alone].item_id, reviewer, Grade("G"), settings).status == TRUSTED
    with any_store.session() as s:
        rows = {r.id: r for r in s.scalars(select(Submission))}
        assert rows[same].status == rows[alone].status == "graded"
        assert rows[same].entry_id is not None and rows[alone].entry_id is not None
        assert queue(s, Scope.submissions()).total_items == 0
        assert queue(s, Scope.scan(summary["scan_id"])).total_items == 0


def test_near_duplicate_submissions_are_grouped(any_store: Store) -> None:
    base = fake_hash("pdq", "platform-picture")
    near = bytes([base[0] ^ 0xFF]) + base[1:]  # 8 bits away
    far = bytes(b ^ 0xFF for b in base[:16]) + base[16:]  # 128 bits away
    ids = [submit(any_store, {"pdq": h.hex()}) for h in (base, near, far)]
    got = attach_submissions(any_store, settings=Settings(review_group_distance=31))
    assert (got.items_created, got.groups) == (3, 1)
    with any_store.session() as s:
        page = queue(s, Scope.submissions())
    groups = sorted(sorted(i.submission_id for i in g.items) for g in page.groups)
    assert groups == [[ids[0], ids[1]], [ids[2]]]
