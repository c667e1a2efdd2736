"""vigil <-> a real HMA (Meta's Hasher-Matcher-Actioner, facebook/ThreatExchange hasher-matcher-actioner/)
over HMA's curation HTTP API, with benign made-up hashes only.

The HMA tests need a running HMA with the curator role: set ``VIGIL_TEST_HMA_URL`` (e.g.
``http://127.0.0.1:5100``), else they are skipped (HMA is not on PyPI, so CI cannot install it). The tests
that need no HMA (unreachable URL, a server that is not HMA, notes) always run.

Each test makes its own bank ``VIGIL_TEST_<hex>`` and deletes it afterwards. Tested against HMA 1.1.7
(ThreatExchange commit baefb4ed67b6cdc1d4c82dbaef858d50866ac424, threatexchange 1.2.17 from PyPI), started
like this (Python 3.11+, PostgreSQL on 127.0.0.1:5432 with trust auth for user postgres)::

    git clone https://github.com/facebook/ThreatExchange /tmp/hma   # any checkout of that commit
    python3.11 -m venv /tmp/hma-venv
    cd /tmp/hma/hasher-matcher-actioner
    /tmp/hma-venv/bin/pip install .    # HMA's PyPI dependencies; its code runs from src/ (py-modules = [])
    psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE hma_test"
    cat > /tmp/hma/omm_config.py <<'EOF'
    from threatexchange.content_type.photo import PhotoContent
    from threatexchange.content_type.video import VideoContent
    from threatexchange.signal_type.md5 import VideoMD5Signal
    from threatexchange.signal_type.pdq.signal import PdqSignal
    from OpenMediaMatch.storage.postgres.impl import DefaultOMMStore

    DATABASE_URI = "postgresql+psycopg2://postgres@127.0.0.1:5432/hma_test"
    PRODUCTION = True
    ROLE_HASHER = False
    ROLE_MATCHER = True
    ROLE_CURATOR = True
    UI_ENABLED = False
    TASK_FETCHER = False
    TASK_INDEXER = False
    TASK_INDEX_CACHE = False
    STORAGE_IFACE_INSTANCE = DefaultOMMStore(
        signal_types=[PdqSignal, VideoMD5Signal],
        content_types=[PhotoContent, VideoContent],
        exchange_types=[],
    )
    EOF
    cd src
    OMM_CONFIG=/tmp/hma/omm_config.py MIGRATION_COMMAND=1 /tmp/hma-venv/bin/flask --app OpenMediaMatch.app \\
        db upgrade --directory OpenMediaMatch/migrations
    OMM_CONFIG=/tmp/hma/omm_config.py /tmp/hma-venv/bin/flask --app OpenMediaMatch.app \\
        run --host 127.0.0.1 --port 5100 &

    cd /work/main   # this repository
    VIGIL_TEST_HMA_URL=http://127.0.0.1:5100 .venv/bin/python -m pytest tests/exchange/test_hma.py

HMA has no route that lists a bank, so the adapter reads content ids one by one from 1 up (see
`vigil.exchange.hma`), deleted ones included: each run leaves about 30 deleted ids behind, and every later
run takes about a second longer (5 s on a fresh database). To start afresh: stop HMA, drop and create
``hma_test``, migrate, restart.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from tests.exchange.formats import fake_hash
from vigil.cli.context import Context
from vigil.cli.hma import hma_group as hma
from vigil.core.errors import VigilError
from vigil.core.records import HashRecord
from vigil.exchange import hma as adapter
from vigil.store import Store, queries
from vigil.store.bulk import lookup_signal_owners
from vigil.store.entries import set_status
from vigil.store.ingest import import_records
from vigil.store.models import Audit, Change, Entry

HMA_ENV = "VIGIL_TEST_HMA_URL"


# ---- helpers ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(db: str, *args: str) -> tuple[int, str, str]:
    """`vigil hma ARGS` on store `db` (the group is invoked directly: it needs no registration in main)."""
    result = CliRunner().invoke(hma, [*args, "--db", db], obj=Context(None, False, 0), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def add_entries(store: Store, rows: list[dict[str, Any]], source: str = "agency-a") -> dict[str, int]:
    """Import `rows` ({"tag", "signals", "category", "quality", "video"}) with benign fake hashes; returns
    tag -> entry id."""
    records = [
        HashRecord(
            line=i,
            hashes={s: fake_hash(s, row["tag"]) for s in row["signals"]},
            quality=row.get("quality", {}),
            category=row.get("category"),
        )
        for i, row in enumerate(rows, 1)
    ]
    ids = {}
    with store.transaction() as session:
        import_records(session, records, file="test", source=source)
        for row, rec in zip(rows, records, strict=True):
            signal, value = next(iter(rec.hashes.items()))
            ids[row["tag"]] = lookup_signal_owners(session.connection(), signal, [value])[value]
            if row.get("video"):
                session.execute(
                    update(Entry).where(Entry.id == ids[row["tag"]]).values(media_type="video/mp4")
                )
    return ids


class HMA:
    """HMA's own API, called directly (no vigil code), to set up banks and to check what push did."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30)

    def add(self, bank: str, note: str | None = None, **hashes: str) -> int:
        body = dict(hashes) | ({"note": note} if note else {})
        resp = self.http.post(f"/c/bank/{bank}/signal", json=body)
        assert resp.status_code in (200, 201), resp.text
        return int(resp.json()["id"])

    def get(self, bank: str, content_id: int) -> dict[str, Any] | None:
        resp = self.http.get(f"/c/bank/{bank}/content/{content_id}", params={"include_signals": "true"})
        if resp.status_code == 404:
            return None
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def delete(self, bank: str, content_id: int) -> None:
        assert self.http.delete(f"/c/bank/{bank}/content/{content_id}").status_code == 200

    def mark(self, bank: str) -> int:
        """The newest content id HMA has handed out (a throwaway content, added then deleted)."""
        cid = self.add(bank, pdq=fake_hash("pdq", f"mark-{secrets.token_hex(4)}").hex())
        self.delete(bank, cid)
        return cid

    def contents_between(self, bank: str, first: int, last: int) -> list[dict[str, Any]]:
        found = [self.get(bank, cid) for cid in range(first + 1, last)]
        return [c for c in found if c is not None and c["bank"]["name"] == bank]


@pytest.fixture
def hma_url() -> str:
    url = os.environ.get(HMA_ENV)
    if not url:
        pytest.skip(
            f"{HMA_ENV} is not set: these tests need a running HMA with the curator role "
            "(HMA is not on PyPI; see this file's docstring for how to start one)"
        )
    return url.rstrip("/")


@pytest.fixture
def api(hma_url: str) -> Iterator[HMA]:
    client = HMA(hma_url)
    try:
        yield client
    finally:
        client.http.close()


@pytest.fixture
def bank(api: HMA) -> Iterator[str]:
    name = f"VIGIL_TEST_{secrets.token_hex(4).upper()}"
    resp = api.http.post("/c/banks", json={"name": name})
    assert resp.status_code == 201, resp.text
    try:
        yield name
    finally:
        api.http.delete(f"/c/bank/{name}")


def hexof(signal: str, tag: str) -> str:
    return fake_hash(signal, tag).hex()


# ---- without HMA ---------------------------------------------------------------------------------------


def test_unreachable_url_is_a_clear_error(tmp_store: Store, sqlite_url: str) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(adapter.HMAUnreachableError, match=f"cannot reach HMA at {url}"):
        adapter.push(tmp_store, url, "BANK", timeout=5)
    with pytest.raises(adapter.HMAUnreachableError, match=f"cannot reach HMA at {url}"):
        adapter.pull(tmp_store, url, "BANK", source="platform", timeout=5)
    code, _, err = run_cli(sqlite_url, "pull", "--url", url, "--bank", "BANK", "--source", "platform")
    assert code == 1
    assert err.startswith(f"Error: cannot reach HMA at {url}") and err.count("\n") == 1


def test_bad_url_and_category_are_refused(tmp_store: Store, sqlite_url: str) -> None:
    with pytest.raises(adapter.HMAError, match="must start with http"):
        adapter.push(tmp_store, "ftp://127.0.0.1/", "BANK")
    with pytest.raises(VigilError, match="unknown category"):
        adapter.pull(tmp_store, "http://127.0.0.1:1", "BANK", source="s", category="Z")
    code, _, err = run_cli(
        sqlite_url, "push", "--url", "http://127.0.0.1:1", "--bank", "B", "--category", "z"
    )
    assert code == 2 and "--category" in err


class _NotHMA(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>404 Not Found</title>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_server_that_is_not_hma_is_a_clear_error(tmp_store: Store) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotHMA)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        with pytest.raises(adapter.HMAError, match=r"answered 404 to GET /c/bank/BANK: .*ROLE_CURATOR"):
            adapter.pull(tmp_store, url, "BANK", source="platform")
    finally:
        server.shutdown()
        server.server_close()


def test_notes_round_trip() -> None:
    assert adapter.make_note(12, "A") == "vigil entry=12 category=A"
    assert adapter.parse_note("vigil entry=12 category=A") == (12, "A")
    assert adapter.parse_note(adapter.make_note(3, None)) == (3, None)
    for other in (None, "", "seen on platform", "vigil entry=x category=A", "vigil entry=1 category=AB"):
        assert adapter.parse_note(other) is None


# ---- against a real HMA ------------------------------------------------------------------------------------

ROWS: list[dict[str, Any]] = [
    {"tag": "img-a", "signals": ["pdq", "md5"], "category": "A", "quality": {"pdq": 90}},
    {"tag": "img-b", "signals": ["pdq"], "category": "B"},
    {"tag": "clip", "signals": ["pdq", "md5"], "category": "C", "video": True},
    {"tag": "blurry", "signals": ["pdq"], "category": "A", "quality": {"pdq": 10}},
    {"tag": "good", "signals": ["pdq"], "category": "G"},
    {"tag": "sha1-only", "signals": ["sha1"], "category": "A"},
]


def test_push_puts_hashes_in_the_bank(hma_url: str, api: HMA, bank: str, tmp_store: Store) -> None:
    ids = add_entries(tmp_store, ROWS)
    before = api.mark(bank)
    report = adapter.push(tmp_store, hma_url, bank)
    after = api.mark(bank)
    assert (report.entries, report.added, report.removed) == (6, 3, 0)
    assert (report.skipped, report.low_quality) == (2, 1)  # the blurry PDQ, and the sha1-only entry
    # HMA's own view of the bank:
    got = {c["note"]: c["signals"] for c in api.contents_between(bank, before, after)}
    assert got == {
        f"vigil entry={ids['img-a']} category=A": {"pdq": hexof("pdq", "img-a")},  # md5 of an image: no
        f"vigil entry={ids['img-b']} category=B": {"pdq": hexof("pdq", "img-b")},
        f"vigil entry={ids['clip']} category=C": {
            "pdq": hexof("pdq", "clip"),
            "video_md5": hexof("md5", "clip"),
        },
    }


def test_push_again_adds_nothing_and_follows_regrading(
    hma_url: str, api: HMA, bank: str, tmp_store: Store
) -> None:
    ids = add_entries(tmp_store, ROWS[:3])
    start = api.mark(bank)
    first = adapter.push(tmp_store, hma_url, bank)
    again = adapter.push(tmp_store, hma_url, bank)
    assert (first.added, again.added, again.unchanged, again.bank_contents) == (3, 0, 3, 3)
    add_entries(tmp_store, [{"tag": "img-b", "signals": ["pdq"], "category": "A"}])  # agency-a re-grades
    before = api.mark(bank)
    regraded = adapter.push(tmp_store, hma_url, bank)
    assert (regraded.added, regraded.notes_updated, regraded.unchanged) == (0, 1, 2)
    notes = {c["note"] for c in api.contents_between(bank, start, before)}
    assert f"vigil entry={ids['img-b']} category=A" in notes
    assert f"vigil entry={ids['img-b']} category=B" not in notes
    only_c = adapter.push(tmp_store, hma_url, bank, category="C")
    assert (only_c.entries, only_c.unchanged, only_c.added) == (1, 1, 0)


def test_retracted_entries_leave_the_bank_on_push(
    hma_url: str, api: HMA, bank: str, tmp_store: Store
) -> None:
    ids = add_entries(tmp_store, ROWS[:3])
    before = api.mark(bank)
    adapter.push(tmp_store, hma_url, bank)
    # A platform's own content with the same hash as img-a, and one with another hash: vigil leaves both.
    theirs_same = api.add(bank, note="found by trust and safety", pdq=hexof("pdq", "img-a"))
    theirs_other = api.add(bank, pdq=hexof("pdq", "platform-only"))
    pushed = {c["note"]: c["id"] for c in api.contents_between(bank, before, theirs_same)}
    with tmp_store.transaction() as session:
        set_status(session, [ids["img-a"]], "retracted")
    since = _change_seq(tmp_store) - 1
    report = adapter.push(tmp_store, hma_url, bank, since=since)
    assert (report.entries, report.removed, report.added) == (1, 1, 0)
    assert api.get(bank, pushed[f"vigil entry={ids['img-a']} category=A"]) is None
    assert api.get(bank, pushed[f"vigil entry={ids['img-b']} category=B"]) is not None
    assert api.get(bank, theirs_same) is not None and api.get(bank, theirs_other) is not None
    assert adapter.push(tmp_store, hma_url, bank).removed == 0


def _change_seq(store: Store) -> int:
    with store.session() as session:
        return int(session.execute(select(func.max(Change.seq))).scalar_one())


def test_pull_into_a_fresh_store(hma_url: str, api: HMA, bank: str, tmp_store: Store) -> None:
    plain = api.add(bank, pdq=hexof("pdq", "p1"))
    both = api.add(bank, note="campaign 7", pdq=hexof("pdq", "p2"), video_md5=hexof("md5", "p2"))
    api.add(bank, note="vigil entry=99 category=B", pdq=hexof("pdq", "p3"))
    off = api.add(bank, pdq=hexof("pdq", "p4"))
    assert api.http.put(f"/c/bank/{bank}/content/{off}", json={"disable_until_ts": 0}).status_code == 200

    report = adapter.pull(tmp_store, hma_url, bank, source="platform-x", category="I")
    assert (report.bank_contents, report.disabled, report.records, report.entries_created) == (4, 1, 3, 3)
    with tmp_store.session() as session:
        entries = {tuple(sorted(r.hashes.items())): r for r in queries.iter_export(session)}
    assert set(entries) == {
        (("pdq", fake_hash("pdq", "p1")),),
        (("md5", fake_hash("md5", "p2")), ("pdq", fake_hash("pdq", "p2"))),
        (("pdq", fake_hash("pdq", "p3")),),
    }
    by_pdq = {dict(k)["pdq"]: r for k, r in entries.items()}
    assert {r.source for r in entries.values()} == {"platform-x"}
    assert by_pdq[fake_hash("pdq", "p1")].category == "I"
    assert by_pdq[fake_hash("pdq", "p3")].category == "B"  # a vigil note's category wins
    assert by_pdq[fake_hash("pdq", "p2")].notes == f"HMA content {both}: campaign 7"
    assert by_pdq[fake_hash("pdq", "p1")].notes == f"HMA content {plain}"


def test_pull_again_is_idempotent(hma_url: str, api: HMA, bank: str, tmp_store: Store) -> None:
    for tag in ("q1", "q2", "q3"):
        api.add(bank, pdq=hexof("pdq", tag))
    first = adapter.pull(tmp_store, hma_url, bank, source="platform-x", category="A")
    with tmp_store.session() as session:
        stats = queries.stats(session)
    again = adapter.pull(tmp_store, hma_url, bank, source="platform-x", category="A")
    assert (first.entries_created, first.assessments_added) == (3, 3)
    assert (again.entries_created, again.signals_added, again.assessments_added) == (0, 0, 0)
    assert again.unchanged == 3
    with tmp_store.session() as session:
        assert queries.stats(session) == stats


def test_round_trip_through_the_cli(hma_url: str, bank: str, tmp_path: Path) -> None:
    sender, receiver = str(tmp_path / "sender.db"), str(tmp_path / "receiver.db")
    with Store(sender) as store:
        add_entries(store, ROWS[:3])
    code, out, err = run_cli(sender, "push", "--url", hma_url, "--bank", bank, "--json")
    assert code == 0, err
    assert '"added": 3' in out
    code, _, err = run_cli(receiver, "pull", "--url", hma_url, "--bank", bank, "--source", "platform-x")
    assert code == 0, err
    assert "3 new entries" in err
    with Store(receiver) as store, store.session() as session:
        got = {(r.category, r.source) for r in queries.iter_export(session)}
        actions = list(session.execute(select(Audit.action, Audit.target)))
    assert got == {("A", "platform-x"), ("B", "platform-x"), ("C", "platform-x")}
    assert actions == [("import", f"{hma_url}/c/bank/{bank}")]
    with Store(sender) as store, store.session() as session:
        assert list(session.execute(select(Audit.action))) == [("export",)]


def test_unknown_bank_is_a_clear_error(hma_url: str, bank: str, tmp_store: Store, sqlite_url: str) -> None:
    missing = f"{bank}_MISSING"
    with pytest.raises(adapter.HMABankNotFoundError, match=f"has no bank '{missing}'.*{bank}"):
        adapter.push(tmp_store, hma_url, missing)
    with pytest.raises(adapter.HMABankNotFoundError, match=f"has no bank '{missing}'"):
        adapter.pull(tmp_store, hma_url, missing, source="platform-x")
    code, _, err = run_cli(sqlite_url, "push", "--url", hma_url, "--bank", missing)
    assert code == 1 and f"has no bank '{missing}'" in err
