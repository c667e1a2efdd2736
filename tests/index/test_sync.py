"""The perceptual index follows the store: imports, retractions, scans, rebuild and verify (SQLite and PG)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select

from tests.imagegen import make_image
from vigil.cli import main
from vigil.index import PDQIndex
from vigil.store import Store
from vigil.store.models import Signal as SignalRow


def run(db: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", db, *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def pdq_csv(
    path: Path, hashes: np.ndarray, *, quality: int = 90, category: str = "A", start: int = 0
) -> Path:
    lines = ["pdq,pdq_quality,category,sha1"]
    for i, h in enumerate(hashes):
        lines.append(f"{h.tobytes().hex()},{quality},{category},{(start + i):040x}")
    path.write_text("\n".join(lines) + "\n")
    return path


def open_index(db: str) -> PDQIndex:
    with Store(db) as store:
        return PDQIndex.open(store.index_root / "pdq", create=False)


def entry_of(db: str, sha1: str) -> int:
    with Store(db) as store, store.session() as s:
        return int(s.scalar(select(SignalRow.entry_id).where(SignalRow.value == bytes.fromhex(sha1))))


def test_import_retract_restore_keep_the_index_equal_to_the_store(any_db_url: str, tmp_path: Path) -> None:
    db = any_db_url
    rng = np.random.default_rng(11)
    hashes = rng.integers(0, 256, (300, 32), dtype=np.uint8)
    assert run(db, "import", str(pdq_csv(tmp_path / "a.csv", hashes[:200])), "--format", "csv")[0] == 0
    index = open_index(db)
    assert len(index) == 200 and index.pending == 0  # the first import builds a segment
    first = index.search(hashes[:3], 0)
    assert [len(hits) for hits in first] == [1, 1, 1] and len({hits[0][0] for hits in first}) == 3

    # A second import is applied incrementally (log records, no new segment).
    generation = index.generation
    assert (
        run(db, "import", str(pdq_csv(tmp_path / "b.csv", hashes[200:], start=200)), "--format", "csv")[0]
        == 0
    )
    index.refresh()
    assert index.generation == generation and index.pending > 0 and len(index) == 300
    found = index.search(hashes[250:251], 0)[0]
    assert len(found) == 1

    # Retracting an entry (by hash) removes it from the index at once; restoring brings it back.
    sha1 = f"{250:040x}"
    code, out, _ = run(db, "--json", "retract", f"sha1:{sha1}")
    assert code == 0 and json.loads(out)["changed"] == [found[0][0]]
    index.refresh()
    assert index.search(hashes[250:251], 0) == [[]] and len(index) == 299
    assert run(db, "retract", "--restore", str(found[0][0]))[0] == 0
    index.refresh()
    assert index.search(hashes[250:251], 0) == [found]

    code, out, _ = run(db, "--json", "index", "verify")
    report = json.loads(out)
    assert code == 0 and report[0]["problems"] == [] and report[0]["rows"] == 300


def test_retract_reports_bad_arguments(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    code, _, err = run(db, "retract", "sha1:xyz")
    assert code == 2 and "40 hex digits" in err
    code, _, err = run(db, "retract", f"sha1:{'0' * 40}")
    assert code == 2 and "no such hash" in err
    code, _, err = run(db, "retract", "12345")
    assert code == 1 and "no entry with id 12345" in err


def test_verify_finds_drift_and_rebuild_repairs_it(any_db_url: str, tmp_path: Path) -> None:
    db = any_db_url
    rng = np.random.default_rng(12)
    hashes = rng.integers(0, 256, (20, 32), dtype=np.uint8)
    assert run(db, "import", str(pdq_csv(tmp_path / "a.csv", hashes[:10])), "--format", "csv")[0] == 0
    eid = entry_of(db, f"{3:040x}")
    # A value written behind vigil's back (no change row): the index cannot know about it.
    with Store(db) as store, store.transaction() as s:
        s.execute(insert(SignalRow).values(entry_id=eid, type="pdq", value=hashes[15].tobytes(), quality=80))
    code, out, _ = run(db, "--json", "index", "verify")
    assert code == 1
    assert "1 store values missing from the index" in json.loads(out)[0]["problems"][0]
    code, out, _ = run(db, "--json", "index", "rebuild")
    assert code == 0 and json.loads(out)[0]["rows"] == 11
    assert run(db, "index", "verify")[0] == 0
    assert open_index(db).search(hashes[15:16], 0) == [[(eid, 0)]]


def test_an_index_from_another_store_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(13)
    hashes = rng.integers(0, 256, (10, 32), dtype=np.uint8)
    monkeypatch.setenv("VIGIL_INDEX_DIR", str(tmp_path / "shared-index"))
    one, two = str(tmp_path / "one.db"), str(tmp_path / "two.db")
    assert run(one, "import", str(pdq_csv(tmp_path / "a.csv", hashes[:5])), "--format", "csv")[0] == 0
    # Same index directory, another store (as after restoring a backup): verify says so, sync starts afresh.
    assert (
        run(two, "import", str(pdq_csv(tmp_path / "b.csv", hashes[5:], start=5)), "--format", "csv")[0] == 0
    )
    code, out, _ = run(two, "--json", "index", "verify")
    assert code == 0, out
    index = open_index(two)
    assert len(index) == 5 and index.search(hashes[:1], 0) == [[]]
    code, out, _ = run(one, "--json", "index", "verify")
    assert code == 1 and "another store" in json.loads(out)[0]["problems"][0]
    assert run(one, "index", "sync")[0] == 0
    assert run(one, "index", "verify")[0] == 0


def test_index_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIGIL_INDEX_DIR", raising=False)
    with Store(str(tmp_path / "x.db")) as store:
        assert store.index_root == tmp_path / "x.db.index"
    monkeypatch.setenv("VIGIL_INDEX_DIR", str(tmp_path / "elsewhere"))
    with Store(str(tmp_path / "x.db")) as store:
        assert store.index_root == tmp_path / "elsewhere"


def test_stats_and_verify_without_an_index(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    code, _, err = run(db, "index", "stats")
    assert code == 1 and "no index here" in err
    code, out, _ = run(db, "--json", "index", "verify")
    assert code == 1 and "no index here" in json.loads(out)[0]["problems"][0]
    assert run(db, "index", "sync")[0] == 0
    code, out, _ = run(db, "--json", "index", "stats")
    assert code == 0 and json.loads(out)[0]["rows"] == 0


def test_a_retracted_image_stops_matching_in_scans(any_db_url: str, tmp_path: Path) -> None:
    db = any_db_url
    ev = tmp_path / "evidence"
    make_image(ev / "photo.png", "shapes", 5, (400, 300))
    _code, out, _ = run(db, "--json", "hash", str(ev / "photo.png"))
    pdq = json.loads(out.splitlines()[0])["pdq"]
    (tmp_path / "k.csv").write_text(f"pdq,pdq_quality,category\n{pdq},100,B\n")
    assert run(db, "import", str(tmp_path / "k.csv"), "--format", "csv")[0] == 0
    make_image(ev / "photo.jpg", "shapes", 5, (200, 150), quality=60)  # a near copy: PDQ, not exact
    (ev / "photo.png").unlink()

    def verdict(out: Path) -> str:
        assert run(db, "scan", str(ev), "--out", str(out), "--workers", "1")[0] == 0
        return json.loads((out / "items.jsonl").read_text().splitlines()[0])["verdict"]

    assert verdict(tmp_path / "scan1") == "similar"
    with Store(db) as store, store.session() as s:
        eid = int(s.scalar(select(SignalRow.entry_id).where(SignalRow.type == "pdq")))
    assert run(db, "retract", str(eid))[0] == 0
    assert verdict(tmp_path / "scan2") == "unknown"
